#include "agent/audit/audit_query.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "agent/audit/audit_record.h"
#include "agent/audit/line_reader.h"

namespace bg {
namespace {

bool StringFieldIs(const Json& record, const char* key, const std::string& value) {
  const auto it = record.find(key);
  return it != record.end() && it->is_string() && it->get<std::string>() == value;
}

bool NamesBundle(const Json& record, const std::string& name, const std::string& version) {
  return StringFieldIs(record, "name", name) &&
         (version.empty() || StringFieldIs(record, "version", version));
}

}  // namespace

Result<std::vector<Json>> ReadAuditRecords(const std::string& path) {
  std::vector<Json> records;
  BG_RETURN_IF_ERROR(ForEachLine(path, [&](std::string_view line, bool complete) {
    if (!complete) return;
    if (auto record = ParseAuditLine(line)) records.push_back(std::move(*record));
  }));
  return records;
}

Result<std::vector<Json>> TailAuditRecords(const std::string& path, std::size_t n) {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, OpenForReading(path));
  BG_ASSIGN_OR_RETURN(const off_t size, SizeBetweenAppends(fd.get(), path));
  BG_ASSIGN_OR_RETURN(const off_t last_newline, FindLastNewline(fd.get(), size, path));
  ReverseLineReader reader(fd.get(), last_newline + 1, path);
  std::vector<Json> records;
  while (records.size() < n) {
    BG_ASSIGN_OR_RETURN(std::optional<std::string> line, reader.Previous());
    if (!line) break;
    if (auto record = ParseAuditLine(*line)) records.push_back(std::move(*record));
  }
  std::reverse(records.begin(), records.end());
  return records;
}

Result<std::vector<Json>> FindBundleRecords(const std::string& path, const std::string& name,
                                            const std::string& version) {
  std::vector<Json> records;
  BG_RETURN_IF_ERROR(ForEachLine(path, [&](std::string_view line, bool complete) {
    // Names and versions need no JSON escaping (SPEC.md), so a line without the name is skipped
    // without parsing it.
    if (!complete || line.find(name) == std::string_view::npos) return;
    auto record = ParseAuditLine(line);
    if (record && NamesBundle(*record, name, version)) records.push_back(std::move(*record));
  }));
  return records;
}

}  // namespace bg

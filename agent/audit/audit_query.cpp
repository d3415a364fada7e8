#include "agent/audit/audit_query.h"

#include <sys/stat.h>

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

// N of a line starting {"seq":N, as MakeAuditRecord writes them; nullopt for any other shape
// (then the caller keeps searching: never stops early on a line it cannot read).
std::optional<std::uint64_t> LeadingSeq(std::string_view line) {
  constexpr std::string_view kPrefix = "{\"seq\":";
  if (line.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::uint64_t seq = 0;
  std::size_t i = kPrefix.size();
  const std::size_t start = i;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && i - start < 19) {
    seq = seq * 10 + static_cast<std::uint64_t>(line[i] - '0');
    ++i;
  }
  if (i == start || i >= line.size() || line[i] != ',') return std::nullopt;
  return seq;
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

Json AuditMark::ToJson() const { return {{"seq", seq}, {"dev", dev}, {"ino", ino}}; }

AuditMark AuditMark::FromJson(const Json& j) {
  AuditMark m;
  if (!j.is_object()) return m;
  const auto number = [&](const char* key) -> std::uint64_t {
    const auto it = j.find(key);
    return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
  };
  m.seq = number("seq");
  m.dev = number("dev");
  m.ino = number("ino");
  return m;
}

namespace {

Result<AuditMark> FileIdentity(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::Error("stat " + path + " failed");
  AuditMark m;
  m.dev = static_cast<std::uint64_t>(st.st_dev);
  m.ino = static_cast<std::uint64_t>(st.st_ino);
  return m;
}

}  // namespace

Result<AuditMark> ReadAuditMark(const std::string& path) {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, OpenForReading(path));
  BG_ASSIGN_OR_RETURN(AuditMark mark, FileIdentity(fd.get(), path));
  BG_ASSIGN_OR_RETURN(const off_t size, SizeBetweenAppends(fd.get(), path));
  BG_ASSIGN_OR_RETURN(const off_t last_newline, FindLastNewline(fd.get(), size, path));
  ReverseLineReader reader(fd.get(), last_newline + 1, path);
  for (;;) {  // the last intact record (a torn or foreign last line is not one)
    BG_ASSIGN_OR_RETURN(std::optional<std::string> line, reader.Previous());
    if (!line) break;
    const auto record = ParseAuditLine(*line);
    if (const auto seq = record ? AuditSeq(*record) : std::nullopt) {
      mark.seq = *seq;
      break;
    }
  }
  return mark;
}

Result<std::optional<Json>> FindAuditRecordSince(const std::string& path, const AuditMark& since,
                                                 std::string_view needle,
                                                 const std::function<bool(const Json&)>& match) {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, OpenForReading(path));
  BG_ASSIGN_OR_RETURN(const AuditMark now, FileIdentity(fd.get(), path));
  const bool same_file = since.dev == now.dev && since.ino == now.ino && since.ino != 0;
  BG_ASSIGN_OR_RETURN(const off_t size, SizeBetweenAppends(fd.get(), path));
  BG_ASSIGN_OR_RETURN(const off_t last_newline, FindLastNewline(fd.get(), size, path));
  ReverseLineReader reader(fd.get(), last_newline + 1, path);
  for (;;) {
    BG_ASSIGN_OR_RETURN(std::optional<std::string> line, reader.Previous());
    if (!line) return std::optional<Json>();
    const bool candidate = line->find(needle) != std::string::npos;
    // The seq is at the start of every line the log writes ({"seq":N,...}): read it without
    // parsing the line, to know where to stop.
    if (same_file) {
      const auto seq = LeadingSeq(*line);
      if (seq && *seq <= since.seq) return std::optional<Json>();
    }
    if (!candidate) continue;
    auto record = ParseAuditLine(*line);
    if (record && match(*record)) return std::optional<Json>(std::move(*record));
  }
}

}  // namespace bg

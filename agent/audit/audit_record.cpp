#include "agent/audit/audit_record.h"

#include <cctype>
#include <initializer_list>

#include "agent/core/bounded_json.h"
#include "agent/core/sha256.h"

namespace bg {
namespace {

constexpr std::initializer_list<const char*> kReservedKeys = {"seq", "time", "event", "prev"};

bool IsDigits(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) return false;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool IsChar(std::string_view s, std::size_t pos, char c) { return pos < s.size() && s[pos] == c; }

// "Z", "z" or "+HH:MM" / "-HH:MM" at `pos`, ending the string.
bool IsOffset(std::string_view s, std::size_t pos) {
  if (pos + 1 == s.size() && (s[pos] == 'Z' || s[pos] == 'z')) return true;
  return pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && IsDigits(s, pos + 1, 2) &&
         IsChar(s, pos + 3, ':') && IsDigits(s, pos + 4, 2);
}

}  // namespace

std::string AuditLineHash(std::string_view line) { return Sha256Hex(line); }

Result<Json> MakeAuditRecord(std::uint64_t seq, const std::string& time, std::string_view event,
                             const std::string& prev, const Json& fields) {
  if (event.empty()) return Status::Error("audit record: the event name is empty");
  if (!fields.is_null() && !fields.is_object()) {
    return Status::Error("audit record " + std::string(event) + ": fields must be a JSON object");
  }
  for (const char* key : kReservedKeys) {
    if (fields.contains(key)) {
      return Status::Error("audit record " + std::string(event) + ": field \"" + key +
                           "\" is set by the audit log itself");
    }
  }
  Json record;
  record["seq"] = seq;
  record["time"] = time;
  record["event"] = std::string(event);
  record["prev"] = prev;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) record[key] = value;
  }
  return record;
}

std::optional<Json> ParseAuditLine(std::string_view line) {
  // Bounded like any JSON on disk that a crash or an attacker may have written: a line nested
  // deeper than anything the agent writes (plugin details are cut at 64 levels when parsed) is
  // damage, reported as a line that does not parse.
  auto j = ParseBoundedJson(line, "audit line", JsonLimits{line.size(), kMaxAuditLineDepth});
  if (!j.ok() || !j->is_object()) return std::nullopt;
  return std::move(j).value();
}

std::optional<std::uint64_t> AuditSeq(const Json& record) {
  const auto it = record.find("seq");
  if (it == record.end()) return std::nullopt;
  if (it->is_number_unsigned()) {
    const auto seq = it->get<std::uint64_t>();
    return seq > 0 ? std::optional(seq) : std::nullopt;
  }
  if (it->is_number_integer() && it->get<std::int64_t>() > 0) {
    return static_cast<std::uint64_t>(it->get<std::int64_t>());
  }
  return std::nullopt;
}

bool IsRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS
  if (!(IsDigits(s, 0, 4) && IsChar(s, 4, '-') && IsDigits(s, 5, 2) && IsChar(s, 7, '-') &&
        IsDigits(s, 8, 2) && (IsChar(s, 10, 'T') || IsChar(s, 10, 't')) && IsDigits(s, 11, 2) &&
        IsChar(s, 13, ':') && IsDigits(s, 14, 2) && IsChar(s, 16, ':') && IsDigits(s, 17, 2))) {
    return false;
  }
  std::size_t pos = 19;
  if (IsChar(s, pos, '.')) {
    const std::size_t digits_start = ++pos;
    while (IsDigits(s, pos, 1)) ++pos;
    if (pos == digits_start) return false;
  }
  return IsOffset(s, pos);
}

}  // namespace bg

#include "agent/audit/audit_verify.h"

#include <string_view>

#include "agent/audit/audit_record.h"
#include "agent/audit/line_reader.h"

namespace bg {
namespace {

std::string LineLabel(std::uint64_t n) { return "line " + std::to_string(n) + ": "; }

// Checks one line's fields against what the chain expects there; "" when they are right.
std::string CheckRecord(const Json& record, std::uint64_t line_no, const std::string& prev_hash) {
  const std::optional<std::uint64_t> seq = AuditSeq(record);
  if (!seq) return "seq is missing or not a positive integer, expected " + std::to_string(line_no);
  if (*seq != line_no) {
    return "seq " + std::to_string(*seq) + ", expected " + std::to_string(line_no) +
           (*seq > line_no ? " (lines missing or reordered before it?)" : " (lines reordered or duplicated?)");
  }
  const auto prev = record.find("prev");
  if (prev == record.end() || !prev->is_string()) return "prev is missing or not a string";
  if (prev->get<std::string>() != prev_hash) {
    if (line_no == 1) return "prev of the first line must be 64 zeros, found " + prev->get<std::string>();
    return "prev does not match the SHA-256 of line " + std::to_string(line_no - 1) +
           " (expected " + prev_hash + ", found " + prev->get<std::string>() +
           "): line " + std::to_string(line_no - 1) + " was changed, or a line before it removed";
  }
  const auto time = record.find("time");
  if (time == record.end() || !time->is_string() || !IsRfc3339(time->get<std::string>())) {
    return "time is missing or not an RFC 3339 timestamp";
  }
  const auto event = record.find("event");
  if (event == record.end() || !event->is_string() || event->get<std::string>().empty()) {
    return "event is missing or not a non-empty string";
  }
  return "";
}

// Follows the chain line by line, keeping the first fault.
class ChainChecker {
 public:
  void AddLine(std::string_view line, bool complete) {
    if (!complete) {
      incomplete_tail_ = true;
      report_.torn_tail = true;
      Fail(report_.lines + 1, "torn: no trailing newline (a crash during append?); the next "
                              "append sets it aside in a .torn file");
      return;
    }
    const std::uint64_t line_no = ++report_.lines;
    if (report_.bad_line == 0) Check(line, line_no);
    prev_hash_ = AuditLineHash(line);
  }

  AuditVerifyReport Finish() {
    report_.head = prev_hash_;
    report_.intact = report_.bad_line == 0;
    if (last_unparseable_ && report_.bad_line == report_.lines && !incomplete_tail_) {
      report_.torn_tail = true;
      report_.why += " (a torn last line? the next append sets it aside in a .torn file)";
    }
    return report_;
  }

 private:
  void Check(std::string_view line, std::uint64_t line_no) {
    const std::optional<Json> record = ParseAuditLine(line);
    if (!record) {
      last_unparseable_ = true;
      Fail(line_no, "not a JSON object");
      return;
    }
    const std::string fault = CheckRecord(*record, line_no, prev_hash_);
    if (!fault.empty()) Fail(line_no, fault);
  }

  void Fail(std::uint64_t line_no, const std::string& why) {
    if (report_.bad_line != 0) return;
    report_.bad_line = line_no;
    report_.why = LineLabel(line_no) + why;
  }

  AuditVerifyReport report_;
  std::string prev_hash_ = std::string(kAuditGenesisPrev);
  bool last_unparseable_ = false;  // the first fault was a line that is not JSON
  bool incomplete_tail_ = false;   // the file does not end in "\n"
};

}  // namespace

AuditVerifyReport VerifyAuditLog(const std::string& path) {
  ChainChecker checker;
  const Status st =
      ForEachLine(path, [&](std::string_view line, bool complete) { checker.AddLine(line, complete); });
  if (!st.ok()) {
    AuditVerifyReport report;
    report.read_error = true;
    report.why = st.message();
    return report;
  }
  return checker.Finish();
}

}  // namespace bg

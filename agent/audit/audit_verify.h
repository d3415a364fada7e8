// VerifyAuditLog: checks the whole hash chain of an audit log (audit_log.h), streaming.
//
// Each line must be a JSON object with an integer `seq` one more than the previous line's
// (starting at 1), `prev` equal to the SHA-256 of the previous line (64 zeros for the first),
// `time` an RFC 3339 string and `event` a non-empty string, and must end in "\n". The report
// names the first line that does not, and why.
//
// What a hash chain cannot see by itself: an edit of the last line (nothing after it carries its
// hash), or whole lines cut from the end. For that the report gives `head`, the SHA-256 of the
// last line: record it elsewhere (a ticket, another host) and check it later
// (`bundlegate audit verify --expect-head HASH`).
//
// Thread safety: reads only; safe from any thread, and while other processes append: it checks
// the log as it was between two appends (line_reader.h), never a half-written line.
#pragma once

#include <cstdint>
#include <string>

namespace bg {

struct AuditVerifyReport {
  bool intact = false;
  std::uint64_t lines = 0;   // complete lines (a torn last line is not counted)
  std::string head;          // SHA-256 of the last complete line: the next record's `prev`
                             // (64 zeros for an empty log)
  std::uint64_t bad_line = 0;  // 1-based first bad line; 0 when intact
  std::string why;             // "line 7: prev does not match ..."; "" when intact
  bool torn_tail = false;      // the log ends in what the next append sets aside as torn
  bool read_error = false;     // the log could not be read: `why` says why; intact is false
};

AuditVerifyReport VerifyAuditLog(const std::string& path);

}  // namespace bg

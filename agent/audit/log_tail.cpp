#include "agent/audit/log_tail.h"

#include "agent/audit/audit_record.h"
#include "agent/audit/line_reader.h"

namespace bg {

Result<LogTail> ReadLogTail(int fd, const std::string& path) {
  LogTail tail;
  BG_ASSIGN_OR_RETURN(tail.size, FileSize(fd, path));
  BG_ASSIGN_OR_RETURN(const off_t last_newline, FindLastNewline(fd, tail.size, path));
  tail.intact_end = last_newline + 1;
  tail.last_hash = std::string(kAuditGenesisPrev);
  if (tail.intact_end == 0) return tail;

  ReverseLineReader reader(fd, tail.intact_end, path);
  BG_ASSIGN_OR_RETURN(const std::optional<std::string> line, reader.Previous());
  if (!line.has_value()) return Status::Error("read " + path + ": the file changed while read");
  const std::optional<Json> record = ParseAuditLine(line.value());
  if (!record) {
    tail.intact_end = reader.position();  // an unparseable last line is torn too
    return tail;
  }
  const std::optional<std::uint64_t> seq = AuditSeq(*record);
  if (!seq) {
    return Status::Error("the last line of the audit log " + path +
                         " is not an audit record (no positive integer seq); not appending to "
                         "it: see `bundlegate audit verify`");
  }
  tail.last_seq = *seq;
  tail.last_hash = AuditLineHash(line.value());
  return tail;
}

}  // namespace bg

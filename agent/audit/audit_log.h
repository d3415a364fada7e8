// AuditLog: the tamper-evident record of every decision (SPEC.md, "Audit log").
//
// JSON Lines, one object a line: {"seq","time","event","prev", ...the event's fields}, where
// `seq` counts from 1 and `prev` is the hex SHA-256 of the previous line's bytes without its
// "\n" (64 zeros for the first line). Editing, deleting, inserting or reordering any line but the
// last breaks the chain at the next line, which `VerifyAuditLog` (audit_verify.h) reports.
//
// Appending. Every Append takes an exclusive flock on the file, so that the agent and CLI
// commands (rollback) in other processes can append to one log; it reads the current last line
// from the end of the file (never the whole log, never a cached seq) to get `seq` and `prev`,
// writes the new line in one write(), and fsyncs before returning. Crash points (env.h):
// "audit.before-write", "audit.after-write", "audit.after-fsync". An Append that fails (a full
// disk, a failed fsync) truncates the log back to where it was, so the error and the log agree.
//
// Crashes. A crash mid-write can leave a torn tail: a last line without "\n", or an unparseable
// last line. The next Append (or RepairTornTail) copies those bytes to "<path>.torn-<utc>",
// fsyncs that, truncates the log to its last intact line, fsyncs, and appends a `recovered`
// record that quotes them (torn_tail.h): nothing is dropped silently. A crash between the
// truncation and that record leaves the saved file as the only trace.
//
// If the path is renamed or replaced under a running AuditLog (log rotation), the next Append
// follows the path: it reopens, or creates, the file found there.
//
// Thread safety: Append and RepairTornTail may be called from any thread; a mutex serializes
// threads of one process (flock does not, as they share the open file).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "agent/audit/audit_query.h"   // IWYU pragma: export
#include "agent/audit/audit_verify.h"  // IWYU pragma: export
#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

class ExclusiveFileLock;
struct LogTail;

class AuditLog {
 public:
  // Opens the log at `path`, creating it (mode 0640) when absent; its directory must exist.
  // Does not read or repair it. Fails when it cannot be opened or is not a regular file.
  static Result<std::unique_ptr<AuditLog>> Open(const std::string& path,
                                                Env& env = Env::Default());

  // Appends {"seq","time","event","prev", then `fields` in their order} and returns that record
  // once it is on disk. A torn tail is repaired first. Fails, leaving the log as it was, when
  // `event` is empty, `fields` is not an object or sets seq/time/event/prev, the last line is
  // JSON but not an audit record (no positive integer seq), or a write or fsync fails.
  Result<Json> Append(std::string_view event, const Json& fields);

  // Sets a torn tail aside as described above. Returns the `recovered` record written, or
  // nullopt when the tail was intact (nothing written).
  Result<std::optional<Json>> RepairTornTail();

  const std::string& path() const { return path_; }

  // What Append did since this AuditLog was opened (for the agent's metrics and readiness).
  // Safe from any thread.
  struct Counts {
    std::uint64_t appended = 0;
    std::uint64_t failed = 0;
    bool last_failed = false;  // the most recent Append failed
  };
  Counts counts() const;

  ~AuditLog();

 private:
  AuditLog(std::string path, Env& env, UniqueFd fd);
  Result<ExclusiveFileLock> LockCurrentFile();
  Result<bool> StillNamesOpenFile() const;
  Result<std::optional<Json>> RepairLocked(const LogTail& tail);
  Result<Json> WriteRecord(const LogTail& tail, std::string_view event, const Json& fields);
  Result<Json> AppendOnce(std::string_view event, const Json& fields);

  const std::string path_;
  Env& env_;
  std::mutex mu_;
  UniqueFd fd_;  // O_RDWR | O_APPEND; guarded by mu_
  std::atomic<std::uint64_t> appended_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<bool> last_failed_{false};
};

}  // namespace bg

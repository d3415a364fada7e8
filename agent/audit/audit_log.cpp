#include "agent/audit/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>

#include "agent/audit/audit_record.h"
#include "agent/audit/file_lock.h"
#include "agent/audit/log_tail.h"
#include "agent/audit/torn_tail.h"
#include "agent/core/clock.h"
#include "agent/core/errno_status.h"

namespace bg {
namespace {

std::string ParentDir(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Opens (creating) the log for appending; a newly created file's directory entry is fsynced.
Result<UniqueFd> OpenLogFile(Env& env, const std::string& path) {
  struct stat st;
  const bool existed = ::stat(path.c_str(), &st) == 0;
  BG_ASSIGN_OR_RETURN(UniqueFd fd, env.Open(path, O_RDWR | O_APPEND | O_CREAT, 0640));
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat", path);
  if (!S_ISREG(st.st_mode)) return Status::Error("audit log " + path + " is not a regular file");
  if (!existed) BG_RETURN_IF_ERROR(env.FsyncDir(ParentDir(path)));
  return fd;
}

}  // namespace

AuditLog::AuditLog(std::string path, Env& env, UniqueFd fd)
    : path_(std::move(path)), env_(env), fd_(std::move(fd)) {}

AuditLog::~AuditLog() = default;

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::string& path, Env& env) {
  auto fd = OpenLogFile(env, path);
  if (!fd.ok()) return fd.status().WithContext("opening the audit log");
  return std::unique_ptr<AuditLog>(new AuditLog(path, env, std::move(fd).value()));
}

Result<Json> AuditLog::Append(std::string_view event, const Json& fields) {
  Result<Json> r = AppendOnce(event, fields);
  (r.ok() ? appended_ : failed_).fetch_add(1);
  last_failed_ = !r.ok();
  return r;
}

AuditLog::Counts AuditLog::counts() const {
  return Counts{appended_.load(), failed_.load(), last_failed_.load()};
}

Result<Json> AuditLog::AppendOnce(std::string_view event, const Json& fields) {
  std::lock_guard<std::mutex> guard(mu_);
  BG_ASSIGN_OR_RETURN(ExclusiveFileLock lock, LockCurrentFile());
  BG_ASSIGN_OR_RETURN(LogTail tail, ReadLogTail(fd_.get(), path_));
  if (tail.torn()) {
    BG_RETURN_IF_ERROR(RepairLocked(tail).status());
    BG_ASSIGN_OR_RETURN(tail, ReadLogTail(fd_.get(), path_));
  }
  return WriteRecord(tail, event, fields);
}

Result<std::optional<Json>> AuditLog::RepairTornTail() {
  std::lock_guard<std::mutex> guard(mu_);
  BG_ASSIGN_OR_RETURN(ExclusiveFileLock lock, LockCurrentFile());
  BG_ASSIGN_OR_RETURN(const LogTail tail, ReadLogTail(fd_.get(), path_));
  return RepairLocked(tail);
}

// Locks the file that the path names now, reopening when it was renamed or replaced.
Result<ExclusiveFileLock> AuditLog::LockCurrentFile() {
  for (;;) {
    {
      BG_ASSIGN_OR_RETURN(ExclusiveFileLock lock, ExclusiveFileLock::Acquire(fd_.get(), path_));
      BG_ASSIGN_OR_RETURN(const bool same, StillNamesOpenFile());
      if (same) return lock;
    }  // unlocked before the descriptor it locks is replaced
    auto fd = OpenLogFile(env_, path_);
    if (!fd.ok()) return fd.status().WithContext("reopening the audit log");
    fd_ = std::move(fd).value();
  }
}

Result<bool> AuditLog::StillNamesOpenFile() const {
  struct stat open_st, path_st;
  if (::fstat(fd_.get(), &open_st) != 0) return ErrnoStatus("stat", path_);
  if (::stat(path_.c_str(), &path_st) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus("stat", path_);
  }
  return open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino;
}

Result<std::optional<Json>> AuditLog::RepairLocked(const LogTail& tail) {
  if (!tail.torn()) return std::optional<Json>();
  auto saved = SaveTornBytes(env_, fd_.get(), path_, tail.intact_end, tail.size);
  if (!saved.ok()) return saved.status().WithContext("saving the torn tail of " + path_);
  BG_RETURN_IF_ERROR(env_.Truncate(fd_.get(), tail.intact_end, path_));
  BG_RETURN_IF_ERROR(env_.Fsync(fd_.get(), path_));
  BG_ASSIGN_OR_RETURN(const LogTail repaired, ReadLogTail(fd_.get(), path_));
  if (repaired.torn()) {
    // One crash tears one line; more than that is damage for a person to look at.
    return Status::Error("the audit log " + path_ + " still ends in an unparseable line after "
                         "setting one aside; not appending: see `bundlegate audit verify`");
  }
  BG_ASSIGN_OR_RETURN(Json record, WriteRecord(repaired, "recovered", DescribeTornTail(*saved)));
  return std::optional<Json>(std::move(record));
}

Result<Json> AuditLog::WriteRecord(const LogTail& tail, std::string_view event,
                                   const Json& fields) {
  BG_ASSIGN_OR_RETURN(Json record, MakeAuditRecord(tail.last_seq + 1, NowRfc3339(), event,
                                                   tail.last_hash, fields));
  const std::string line = DumpJson(record) + "\n";
  env_.CrashPoint("audit.before-write");
  Status st = env_.WriteAll(fd_.get(), line, path_);
  if (st.ok()) {
    env_.CrashPoint("audit.after-write");
    st = env_.Fsync(fd_.get(), path_);
  }
  if (!st.ok()) {
    // Take back what may have been written, so that a failed append leaves no record. Best
    // effort: if this fails too, a torn line is repaired by the next append, and a whole line
    // stays (a valid record of an append that reported failure).
    (void)env_.Truncate(fd_.get(), tail.size, path_);
    (void)env_.Fsync(fd_.get(), path_);
    return st.WithContext("appending to the audit log");
  }
  env_.CrashPoint("audit.after-fsync");
  return record;
}

}  // namespace bg

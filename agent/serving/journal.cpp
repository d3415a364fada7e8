#include "agent/serving/journal.h"

#include <fcntl.h>
#include <unistd.h>

#include "agent/core/bounded_json.h"
#include "agent/core/clock.h"
#include "agent/core/file_contents.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/durability.h"

namespace bg {
namespace {

// Records embed plugin results (themselves parsed within 64 levels) a few levels down.
constexpr JsonLimits kRecordLimits{kMaxRecordBytes, 128};

std::string FirstLine(const std::string& path) {
  const auto text = ReadFileContents(path);
  if (!text) return "";
  return text->substr(0, text->find('\n'));
}

}  // namespace

const Json& AgentIdentity() {
  static const Json identity = [] {
    char host[256] = {0};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    std::string boot_id = FirstLine("/proc/sys/kernel/random/boot_id");
    return Json{{"host", std::string(host)},
                {"boot_id", boot_id},
                {"pid", ::getpid()},
                {"started_at", NowRfc3339()}};
  }();
  return identity;
}

bool DecisionJournal::ExistsIn(const std::string& dir) { return PathExists(PathIn(dir)); }

Result<DecisionJournal> DecisionJournal::Load(Env& env, const std::string& dir,
                                              const std::string& intake_id) {
  DecisionJournal journal(env, dir, intake_id);
  const std::string path = PathIn(dir);
  if (!PathExists(path)) return journal;
  const auto text = ReadFileContents(path);
  if (!text) return Status::Error("cannot read " + path);
  if (text->size() > kMaxJournalBytes) {
    return Status::Error(path + ": " + std::to_string(text->size()) + " bytes, more than a journal holds");
  }
  std::size_t start = 0;
  while (start < text->size()) {
    const std::size_t nl = text->find('\n', start);
    const bool last = nl == std::string::npos || nl + 1 == text->size();
    const std::string_view line(text->data() + start,
                                (nl == std::string::npos ? text->size() : nl) - start);
    start = nl == std::string::npos ? text->size() : nl + 1;
    auto record = ParseBoundedJson(line, path, kRecordLimits);
    const bool usable = record.ok() && record->is_object() && record->contains("type");
    if (!usable || nl == std::string::npos) {
      if (last) {  // torn by a crash mid-append: never acted on, dropped
        journal.needs_rewrite_ = true;
        break;
      }
      return Status::Error(path + ": a damaged record before the last one; not acting on it (" +
                           (record.ok() ? std::string("not a journal record") : record.status().message()) + ")");
    }
    journal.records_.push_back(std::move(record).value());
  }
  if (!journal.records_.empty()) {
    const Json& header = journal.records_.front();
    if (header.value("type", "") != "begin") return Status::Error(path + ": no header record");
    if (header.value("format", 0) > kJournalFormat) {
      return Status::Error(path + ": written in journal format " +
                           std::to_string(header.value("format", 0)) + ", newer than this agent's " +
                           std::to_string(kJournalFormat));
    }
  }
  return journal;
}

const Json* DecisionJournal::Last(std::string_view type) const {
  for (auto it = records_.rbegin(); it != records_.rend(); ++it) {
    if (it->value("type", "") == type) return &*it;
  }
  return nullptr;
}

std::vector<Json> DecisionJournal::CheckAttempts() const {
  std::vector<Json> out;
  for (const auto& r : records_) {
    const std::string type = r.value("type", "");
    if (type == "decision") out.clear();
    if (type == "check-started") out.push_back(r);
  }
  return out;
}

int DecisionJournal::NextAttempt() const { return static_cast<int>(CheckAttempts().size()) + 1; }

Status DecisionJournal::Append(Json record, bool durable) {
  record["time"] = NowRfc3339();
  record["pid"] = ::getpid();
  if (needs_rewrite_) BG_RETURN_IF_ERROR(Rewrite());
  if (records_.empty()) {
    Json header = {{"type", "begin"},
                   {"format", kJournalFormat},
                   {"intake_id", intake_id_},
                   {"agent", AgentIdentity()},
                   {"time", record["time"]},
                   {"pid", ::getpid()}};
    bool sync_failed = false;
    Status st = WriteLine(header, /*durable=*/false, &sync_failed);
    if (!st.ok()) {
      needs_rewrite_ = true;  // part of a line may be there
      return st;
    }
    records_.push_back(std::move(header));
  }
  bool sync_failed = false;
  Status written = WriteLine(record, durable, &sync_failed);
  if (!written.ok() && !sync_failed) {
    needs_rewrite_ = true;
    return written;
  }
  records_.push_back(std::move(record));
  if (written.ok()) return written;
  // The line is written but its sync failed: the pages may be lost. Write it all again.
  Status redone = Rewrite();
  if (!redone.ok()) {
    records_.pop_back();
    needs_rewrite_ = true;
    return redone.WithContext("after " + written.message());
  }
  return Status::Ok();
}

Status DecisionJournal::WriteLine(const Json& record, bool durable, bool* sync_failed) {
  const std::string path = PathIn(dir_);
  if (!fd_) {
    BG_ASSIGN_OR_RETURN(fd_, env_->Open(path, O_WRONLY | O_CREAT | O_APPEND, 0600));
  }
  const std::string line = DumpJson(record) + "\n";
  if (line.size() > kMaxRecordBytes) return Status::Error(path + ": record too large to journal");
  BG_RETURN_IF_ERROR(env_->WriteAll(fd_.get(), line, path));
  if (!durable) return Status::Ok();
  Status synced = env_->Fsync(fd_.get(), path);
  if (!synced.ok()) {
    *sync_failed = true;
    return synced;
  }
  Status dirs = SyncDirectories();
  if (!dirs.ok()) *sync_failed = true;
  return dirs;
}

Status DecisionJournal::SyncDirectories() {
  if (dirs_synced_) return Status::Ok();
  // work/<id>/journal.jsonl's name, and work/<id>'s own (a claim is not synced).
  BG_ASSIGN_OR_RETURN(DirectoryHandle dir, DirectoryHandle::Open(*env_, dir_));
  BG_RETURN_IF_ERROR(dir.Sync());
  BG_ASSIGN_OR_RETURN(DirectoryHandle parent, DirectoryHandle::Open(*env_, ParentDirectory(dir_)));
  BG_RETURN_IF_ERROR(parent.Sync());
  dirs_synced_ = true;
  return Status::Ok();
}

Status DecisionJournal::Rewrite() {
  std::string text;
  for (const auto& r : records_) text += DumpJson(r) + "\n";
  const std::string path = PathIn(dir_);
  BG_RETURN_IF_ERROR(env_->WriteFileAtomic(path, text, 0600, /*durable=*/true));
  fd_.Reset();  // the old descriptor names the replaced file
  needs_rewrite_ = false;
  return SyncDirectories();
}

}  // namespace bg

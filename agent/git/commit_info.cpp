#include "agent/git/commit_info.h"

#include <git2/errors.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "agent/git/git_handles.h"
#include "agent/git/git_status.h"

namespace bg {
namespace {

std::string Signature(const git_signature* s) {
  if (s == nullptr) return "";
  return std::string(s->name ? s->name : "") + " <" + (s->email ? s->email : "") + ">";
}

Status Unknown(std::string_view hex, std::string_view why) {
  return Status::Reject(Reason::kCommitUnknown,
                        "commit " + std::string(hex) + " " + std::string(why));
}

CommitInfo Describe(git_commit* commit) {
  CommitInfo info;
  info.oid = *git_commit_id(commit);
  info.id = git_oid_tostr_s(&info.oid);
  const char* summary = git_commit_summary(commit);  // caches in `commit`, hence non-const
  info.summary = summary ? summary : "";
  const git_signature* author = git_commit_author(commit);
  info.author = Signature(author);
  if (author != nullptr) info.time = GitTimeRfc3339(author->when.time, author->when.offset);
  return info;
}

}  // namespace

Json CommitInfo::ToJson() const {
  return {{"id", id}, {"summary", summary}, {"author", author}, {"time", time}};
}

std::string GitTimeRfc3339(std::int64_t seconds, int offset_minutes) {
  const std::time_t local = static_cast<std::time_t>(seconds + std::int64_t{offset_minutes} * 60);
  std::tm tm{};
  gmtime_r(&local, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (offset_minutes == 0) return out + "Z";
  const int abs = std::abs(offset_minutes);
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', abs / 60, abs % 60);
  return out + buf;
}

Result<CommitInfo> LookupCommit(git_repository* repo, std::string_view hex) {
  if (hex.size() != GIT_OID_HEXSZ) {
    return Unknown(hex, "is not a SHA-1 id; libgit2 1.5 reads SHA-1 repositories only");
  }
  git_oid oid;
  if (git_oid_fromstrn(&oid, hex.data(), hex.size()) < 0) return Unknown(hex, "is not a valid id");
  git_object* raw = nullptr;
  const int rc = git_object_lookup(&raw, repo, &oid, GIT_OBJECT_ANY);
  ObjectPtr object(raw);
  if (rc == GIT_ENOTFOUND) return Unknown(hex, "is not in the repository");
  BG_RETURN_IF_ERROR(GitStatus(rc, "looking up commit " + std::string(hex)));
  const git_object_t type = git_object_type(object.get());
  if (type != GIT_OBJECT_COMMIT) {
    return Unknown(hex, std::string("names a ") + git_object_type2string(type) + ", not a commit");
  }
  return Describe(reinterpret_cast<git_commit*>(object.get()));
}

}  // namespace bg

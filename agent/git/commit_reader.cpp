#include "agent/git/commit_reader.h"

#include "agent/git/git_status.h"
#include "agent/git/repository.h"

namespace bg {
namespace {

std::string Id(const git_oid& oid) { return git_oid_tostr_s(&oid); }

}  // namespace

CommitReader::CommitReader(git_repository* repo) : repo_(repo), packs_(ObjectsDir(repo)) {}

CommitReader::~CommitReader() {
  if (odb_ != nullptr) git_odb_free(odb_);
}

Status CommitReader::Read(const git_oid& oid, CommitHeader& out) {
  if (!packs_.Read(oid, PackType::kCommit, raw_)) return ReadThroughLibgit2(oid, out);
  ++from_packs_;
  const Status parsed = ParseCommitHeader(raw_, out);
  return parsed.ok() ? parsed : parsed.WithContext("commit " + Id(oid));
}

Status CommitReader::ReadThroughLibgit2(const git_oid& oid, CommitHeader& out) {
  if (odb_ == nullptr) {
    BG_RETURN_IF_ERROR(GitStatus(git_repository_odb(&odb_, repo_), "opening the object database"));
  }
  git_odb_object* raw = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_odb_read(&raw, odb_, &oid),
                               "reading commit " + Id(oid) + " (is the clone shallow or damaged?)"));
  const git_object_t type = git_odb_object_type(raw);
  const std::string_view data(static_cast<const char*>(git_odb_object_data(raw)),
                              git_odb_object_size(raw));
  Status status = type == GIT_OBJECT_COMMIT
                      ? ParseCommitHeader(data, out)
                      : Status::Error("object " + Id(oid) + " is a " +
                                      git_object_type2string(type) + ", not a commit");
  git_odb_object_free(raw);
  ++through_libgit2_;
  return status.ok() || type != GIT_OBJECT_COMMIT ? status : status.WithContext("commit " + Id(oid));
}

}  // namespace bg

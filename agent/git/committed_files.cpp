#include "agent/git/committed_files.h"

#include "agent/git/file_at_commit.h"

namespace bg {
namespace {

struct FilePair {
  const char* role;         // "lockfile", "preprocessing spec"
  std::string bundle_path;  // in the bundle
  std::string repo_path;    // in the repository
};

std::string Short(const git_oid& oid) {
  char buf[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buf, sizeof buf, &oid);
  return std::string(buf, 12);
}

std::string Detail(const FilePair& pair, const FileAtCommit& at, const std::string& bundle_sha,
                   const git_oid& commit) {
  std::string d = pair.role;
  if (pair.bundle_path != pair.repo_path) d += " (bundle file " + pair.bundle_path + ")";
  const std::string bundle = bundle_sha.empty() ? "missing from the bundle" : bundle_sha;
  if (!at.sha256) {
    return d + " " + at.missing_why + " at commit " + Short(commit) + "; bundle sha256 " + bundle;
  }
  return d + " differs from commit " + Short(commit) + ": bundle sha256 " + bundle +
         ", commit sha256 " + *at.sha256;
}

Result<Json> Compare(git_repository* repo, const git_oid& commit, const FilePair& pair,
                     const WalkReport& walk, GitReport& report) {
  BG_ASSIGN_OR_RETURN(FileAtCommit at, ReadFileAtCommit(repo, commit, pair.repo_path));
  const WalkedFile* file = walk.FindFile(pair.bundle_path);
  const std::string bundle_sha = file ? file->sha256 : "";
  const bool same = at.sha256 && !bundle_sha.empty() && *at.sha256 == bundle_sha;
  Json entry = {{"role", pair.role},
                {"path", pair.repo_path},
                {"bundle_file", pair.bundle_path},
                {"bundle_sha256", bundle_sha.empty() ? Json() : Json(bundle_sha)},
                {"commit_sha256", at.sha256 ? Json(*at.sha256) : Json()},
                {"identical", same}};
  if (!same) {
    report.Add(
        Reason::kFileDiffersAtCommit, Detail(pair, at, bundle_sha, commit), pair.repo_path,
        {{"bundle_sha256", entry["bundle_sha256"]}, {"commit_sha256", entry["commit_sha256"]}});
  }
  return entry;
}

}  // namespace

Status CompareCommittedFiles(git_repository* repo, const git_oid& commit, const Manifest& manifest,
                             const WalkReport& walk, GitReport& report) {
  const FilePair pairs[] = {
      {"lockfile", manifest.dependencies.lockfile, manifest.source.lockfile_path},
      {"preprocessing spec", manifest.preprocessing.spec, manifest.source.preprocessing_path},
  };
  Json files = Json::array();
  for (const auto& pair : pairs) {
    BG_ASSIGN_OR_RETURN(Json entry, Compare(repo, commit, pair, walk, report));
    files.push_back(std::move(entry));
  }
  report.details["files"] = std::move(files);
  return Status::Ok();
}

}  // namespace bg

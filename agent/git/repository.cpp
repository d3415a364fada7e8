#include "agent/git/repository.h"

#include <git2/global.h>

#include <mutex>

#include "agent/git/git_status.h"

namespace bg {
namespace {

Status InitLibgit2Once() {
  static std::once_flag once;
  static int code = 0;
  std::call_once(once, [] { code = git_libgit2_init(); });
  return GitStatus(code, "initializing libgit2");
}

}  // namespace

Result<RepositoryPtr> OpenRepository(const std::string& path) {
  BG_RETURN_IF_ERROR(InitLibgit2Once());
  git_repository* raw = nullptr;
  const int rc =
      git_repository_open_ext(&raw, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  RepositoryPtr repo(raw);
  BG_RETURN_IF_ERROR(GitStatus(rc, "opening git repository " + path));
  return repo;
}

std::string ObjectsDir(git_repository* repo) {
  std::string dir = git_repository_commondir(repo);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  return dir + "objects";
}

}  // namespace bg

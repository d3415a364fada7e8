#include "agent/git/fetch.h"

#include <git2/remote.h>
#include <git2/strarray.h>

#include "agent/git/git_handles.h"
#include "agent/git/git_status.h"

namespace bg {
namespace {

// libgit2 aborts a transfer when a progress callback returns non-zero.
int AbortWhenCancelled(const git_indexer_progress* /*stats*/, void* payload) {
  const auto* cancelled = static_cast<const std::atomic<bool>*>(payload);
  return cancelled != nullptr && cancelled->load() ? -1 : 0;
}

Result<std::vector<std::string>> RemoteNames(git_repository* repo) {
  git_strarray names{};
  BG_RETURN_IF_ERROR(GitStatus(git_remote_list(&names, repo), "listing remotes"));
  std::vector<std::string> out(names.strings, names.strings + names.count);
  git_strarray_dispose(&names);
  return out;
}

Status FetchRemote(git_repository* repo, const std::string& name,
                   const std::atomic<bool>* cancelled) {
  git_remote* raw = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_remote_lookup(&raw, repo, name.c_str()), "remote " + name));
  RemotePtr remote(raw);
  git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
  options.callbacks.transfer_progress = AbortWhenCancelled;
  options.callbacks.payload = const_cast<std::atomic<bool>*>(cancelled);
  const char* url = git_remote_url(remote.get());
  return GitStatus(git_remote_fetch(remote.get(), nullptr, &options, "bundlegate: fetch"),
                   "fetching remote " + name + " (" + (url ? url : "no url") + ")");
}

}  // namespace

Result<std::vector<std::string>> FetchRemotes(git_repository* repo,
                                              const std::atomic<bool>* cancelled) {
  BG_ASSIGN_OR_RETURN(std::vector<std::string> names, RemoteNames(repo));
  if (names.empty()) return Status::Error("fetch = true, but the repository has no remote");
  for (const auto& name : names) BG_RETURN_IF_ERROR(FetchRemote(repo, name, cancelled));
  return names;
}

}  // namespace bg

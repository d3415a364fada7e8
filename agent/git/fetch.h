// FetchRemotes: brings the repository up to date from its remotes before a check.
//
// Every configured remote is fetched with its own configured refspecs (a mirror's "+refs/*:refs/*",
// a clone's "+refs/heads/*:refs/remotes/<name>/*") plus all tags, so that a release tag pushed
// after the last fetch counts. No credentials are offered: a remote that needs them fails, and a
// failed fetch fails the check (an `error` verdict), never passes it on stale refs. A transfer
// in progress is abandoned when `cancelled` is set.
//
// Thread safety: uses only `repo`, which belongs to the calling thread. Two fetches into one
// repository at once contend for its ref locks; the caller serializes them (git_check.h).
#pragma once

#include <git2/repository.h>

#include <atomic>
#include <string>
#include <vector>

#include "agent/core/status.h"

namespace bg {

// The names of the remotes fetched. Fails on the first remote that cannot be fetched, and when
// the repository has no remote at all (fetching was asked for: doing nothing would be a lie).
Result<std::vector<std::string>> FetchRemotes(git_repository* repo,
                                              const std::atomic<bool>* cancelled = nullptr);

}  // namespace bg

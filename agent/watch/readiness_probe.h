// ProbeInboxEntry: one look at inbox/<name> for the SettleTracker.
//
// Walks the entry with the checks' own walker (bundle/bundle_walk.h) without opening files, so
// that readiness and the checks see the same tree by the same rules, and finds whether it is
// complete in SPEC.md's sense (bundle.toml parses as TOML and every [[files]] entry exists with
// its declared size), how many bytes a copy of it needs, and a fingerprint of the tree (names,
// types, sizes, mtimes, inodes) so that the tracker can tell whether anything changed between
// two looks. It reads nothing but bundle.toml, through BundleDir (no symlink is followed).
//
// Entries that can never become a valid bundle are reported complete, so that they settle and
// are claimed and rejected with a precise reason instead of waiting for the incomplete timeout:
// a file or symlink instead of a directory, anything the walk calls unsafe (a symlink, fifo,
// socket, device or hard link anywhere in the tree) or over its limits, an unsafe or oversized
// bundle.toml, a bundle.toml that parses but lacks a [[files]] list, a file larger than
// declared. A bundle.toml that does not parse is reported as such (manifest_unparsable): the
// tracker claims it once the tree was quiet for watch.manifest_grace_s. A listed file that is
// missing or smaller than declared may still be on its way: that waits.
//
// When the agent itself cannot look (a directory it may not open or read, EIO, EMFILE), the
// result carries the failure (`fault`): that is not a property of the bundle, and the agent
// holds the entry instead of letting it run into the incomplete timeout.
//
// Thread safety: stateless; runs on a worker thread.
#pragma once

#include <cstdint>
#include <string>

#include "agent/config/config.h"
#include "agent/core/env.h"
#include "agent/core/status.h"
#include "agent/watch/settle_tracker.h"

namespace bg {

struct ProbeResult {
  bool exists = true;  // false: the entry vanished (renamed away, deleted)
  Status fault;        // not ok: the agent could not look at it (observation is unset)
  SettleTracker::Observation observation;
  // What a copy of it needs: the larger of what [[files]] declares and what is there.
  std::uint64_t bytes = 0;
};

ProbeResult ProbeInboxEntry(const std::string& inbox, const std::string& name,
                            const LimitsConfig& limits, Env& env = Env::Default());

}  // namespace bg

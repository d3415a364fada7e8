// ProbeInboxEntry: one look at inbox/<name> for the SettleTracker.
//
// Finds whether the entry is complete in SPEC.md's sense (bundle.toml parses as TOML and every
// [[files]] entry exists with its declared size) and fingerprints the tree (names, types, sizes,
// mtimes, inodes) so that the tracker can tell whether anything changed between two looks. It
// reads nothing but bundle.toml, through BundleDir (no symlink is followed).
//
// Entries that can never become a valid bundle are reported complete, so that they settle and
// are claimed and rejected with a precise reason instead of waiting for the incomplete timeout:
// a file or symlink instead of a directory, a tree over its limits, a symlinked bundle.toml, a
// bundle.toml that parses but lacks a usable [[files]] list, a file larger than declared. A
// listed file that is missing or smaller than declared may still be on its way: that waits.
//
// Thread safety: stateless; runs on a worker thread.
#pragma once

#include <string>

#include "agent/config/config.h"
#include "agent/watch/settle_tracker.h"

namespace bg {

struct ProbeResult {
  bool exists = true;  // false: the entry vanished (renamed away, deleted)
  SettleTracker::Observation observation;
};

ProbeResult ProbeInboxEntry(const std::string& inbox, const std::string& name,
                            const LimitsConfig& limits);

}  // namespace bg

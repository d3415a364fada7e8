// The status report: what `bundlegate status --json` prints and what the agent's /status
// serves, from one function so that the two cannot drift apart.
//
//   {"root", "running", "inbox_entries", "work_entries", "quarantined",
//    "served": [{"name", "current", "versions"}], "agent": {...}}
// "agent" is the running agent's own account (Agent::Impl::StatusJson): read from
// <root>/status.json by the CLI (at most a second old), given live by the agent itself.
//
// It lists inbox/, work/, quarantine/ and serving/: a directory read each, so call it off the
// agent's event loop.
//
// Thread safety: reads only; safe from any thread.
#pragma once

#include <optional>

#include "agent/config/config.h"
#include "agent/core/json.h"

namespace bg {

// `live_agent`: the agent's StatusJson when the agent itself asks (then "running" is true);
// nullopt to read the status file and probe the agent lock, as the CLI does.
Json CollectStatus(const Config& config, const std::optional<Json>& live_agent = std::nullopt);

}  // namespace bg

// TorchScript bundles for the plugin's interop tests, made by Python at test time.
//
// tests/python/make_torch_fixtures.py (which uses scripts/bundlegate_pack.py) writes every
// fixture once per build into the build tree, keyed by a hash of both scripts: ctest runs each
// test case in its own process, and the first one to need the fixtures makes them while the
// others wait on a lock (flock), so they are generated once, not once per test.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "plugins/sdk/json.h"
#include "tests/support/process.h"

namespace bg::test {

// The directory of fixture bundle `name` (see make_torch_fixtures.py --list).
std::string TorchFixture(const std::string& name);

// Every fixture and the TorchScript plugin's expected verdict (make_torch_fixtures.py --list).
std::vector<std::pair<std::string, std::string>> TorchFixtureVerdicts();

// The hostile models (hostile_models.py list); each is fixture "hostile-<name>".
struct HostileCase {
  std::string name;
  std::string reason;  // the plugin's expected reason
  std::string live;    // how a naive reader runs its payload ("-": no live payload)
  std::string needle;  // what the scan's summary must mention
};
std::vector<HostileCase> HostileCases();

// The file that hostile case `name`'s payload creates if it ever runs.
std::string PwnedMarker(const std::string& name);

// The plugin's request for the bundle at `bundle_dir`: its bundle.toml read by the agent's own
// manifest parser (Manifest::ToJson, exactly what the agent sends) and `config`.
sdk::Json PluginRequest(const std::string& bundle_dir,
                        const sdk::Json& config = sdk::Json::object());

struct PluginRun {
  ProcessResult process;
  sdk::Json result;  // the one JSON object on stdout; null when there was none
};

// Runs bundlegate-check-torchscript under the agent's sandbox (bg_sandbox_exec; optionally
// under `sh -c "<limits>; exec plugin"`, e.g. "ulimit -t 3") with `request` on stdin. When the process exits normally its stdout must be
// exactly one JSON line.
PluginRun RunTorchscriptPlugin(const sdk::Json& request, const std::string& shell_limits = "");

// Shorthand: the plugin's result for fixture `name` with `config`.
sdk::Json CheckFixture(const std::string& name, const sdk::Json& config = sdk::Json::object());

}  // namespace bg::test

// A sandbox::Spec as JSON, and back: how the agent tells a warm worker (a plugin's `--serve`
// process, plugins/sdk/serve.h) the sandbox each request child must enter. The worker is the
// plugin's own code; what it prepares is exactly the spec the agent computed for a cold run of
// the same bundle (plugin_launch.h), so a request child is confined as a cold run is.
//
// The object has one key per Spec field, named as the field ("layers" and "required" as arrays
// of layer names). Parsing is strict: an unknown key, a wrong type, an unknown layer name or a
// relative path is an error (a worker that cannot honour a spec must refuse it, never run with
// less). An absent key keeps Spec's default.
//
// Linked by the agent and by the plugin SDK (bg_sandbox_json: bg_sandbox plus nlohmann_json).
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "agent/sandbox/sandbox.h"

namespace bg::sandbox {

nlohmann::ordered_json SpecToJson(const Spec& spec);

// False with `*error` set when `j` is not a valid spec.
bool SpecFromJson(const nlohmann::ordered_json& j, Spec* spec, std::string* error);

}  // namespace bg::sandbox

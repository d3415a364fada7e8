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
// Also the layers' outcomes as a check's details.runner.isolation shows them:
//   {"<layer>": {"applied": true|false, "off": true (not asked for), "why": "...", <facts>}, ...}
// written by the agent for a cold run and by a warm worker for its request child, and read
// back by the agent from the worker's answer (leniently: what is not a well-formed layer is left
// out, a value of the wrong type reads as "not applied").
//
// Linked by the agent and by the plugin SDK (bg_sandbox_json: bg_sandbox plus nlohmann_json).
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/sandbox/sandbox.h"

namespace bg::sandbox {

nlohmann::ordered_json SpecToJson(const Spec& spec);

// False with `*error` set when `j` is not a valid spec.
bool SpecFromJson(const nlohmann::ordered_json& j, Spec* spec, std::string* error);

nlohmann::ordered_json LayersToJson(const std::vector<LayerOutcome>& layers);
std::vector<LayerOutcome> LayersFromJson(const nlohmann::ordered_json& j);

}  // namespace bg::sandbox

// RunPlugin: the whole main() of a plugin, around its one check function.
//
//   int main(int argc, char** argv) { return bg::sdk::RunPlugin(argc, argv, MySpec()); }
//
// Command line:
//   (no arguments)  read one request on stdin, run the check, print one result on stdout
//   --describe      print {"protocol":1,"kind":..,"version":..,"runtime":{..},...} and exit
//   --help          usage on stdout
//   --serve         a warm worker: requests framed on stdin, each checked in a fresh child
//                   forked from it and confined by the sandbox the agent sends (serve.h)
// Exit status: 0 when a result (pass, fail or error) or a description was printed, 2 on a
// usage error, 1 when the result could not be written. The agent reads the verdict from the
// JSON, never from the exit status; a non-zero exit with no JSON means "no valid result".
//
// Exception barrier: a bad request, an exception escaping the check (std::exception or any
// other) or a failing describe become an "error" result with reason plugin-error and a
// one-line summary; nothing (no stack trace) reaches stdout but the result, which goes through
// a ResultChannel. A crash (signal) cannot be caught here: the agent maps it to plugin-crashed.
//
// Thread safety: call once, from main.
#pragma once

#include <functional>
#include <string>

#include "plugins/sdk/json.h"
#include "plugins/sdk/request.h"
#include "plugins/sdk/result.h"

namespace bg::sdk {

struct PluginSpec {
  std::string kind;     // "torchscript": the plugin is bundlegate-check-<kind>
  std::string version;  // the plugin's own version
  // The "runtime" object of --describe (library versions, devices). May throw.
  std::function<Json()> describe_runtime;
  // Further top-level --describe fields (e.g. "model_formats").
  Json describe_extra = Json::object();
  // Whether --describe offers a warm worker ("serve": true, serve.h). The SDK's worker forks
  // a child per request, so a plugin whose process must not fork (it starts threads before
  // its check runs, say) sets this false and keeps the cold path.
  bool serve = true;
  // The check. May throw; see the barrier above.
  std::function<PluginResult(const Request&)> check;
};

int RunPlugin(int argc, char** argv, const PluginSpec& spec);

// The --describe object (exposed for tests).
Json Describe(const PluginSpec& spec);

}  // namespace bg::sdk

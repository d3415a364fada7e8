// What a plugin run means for the bundle: the plugin's stdout validated against the protocol
// (SPEC.md "Plugins"), or, when the run itself went wrong, the runner's verdict.
//
// The runner decides first, in this order (each an `error` verdict: the check could not give a
// result, which fails the bundle closed):
//   could not start, cancelled                      plugin-error
//   timeout_s passed (the group was killed)         plugin-timeout
//   more than max_output_kb on stdout (killed)      plugin-error
//   CPU limit hit (SIGXCPU, or SIGKILL at cpu_s)    plugin-timeout
//   killed by any other signal                      plugin-crashed, naming the signal
// Otherwise it exited, whatever its status, and stdout must hold exactly one valid result: if
// not, plugin-error, naming what is wrong, the exit status and stderr's last line. So a non-zero
// exit without a result is plugin-error ("crashed" is kept for death by a signal, which is what
// a segfault, an abort or the kernel's OOM killer look like). A valid fail/error result counts
// whatever the exit status (a plugin may exit 1 on failure); a "pass" must come with status 0.
//
// Validation is strict: protocol 1; status "pass", "fail" or "error"; reason required for
// fail/error, a code of [a-z0-9-]+ (SPEC.md's preferred; another is passed through and noted),
// absent or "" for pass; summary a string; details an object; metrics an object of numbers.
// Unknown top-level keys are ignored and noted.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/checks/check_result.h"
#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/plugin/child_process.h"
#include "agent/plugin/plugin_launch.h"

namespace bg {

// `text` as exactly one JSON object (surrounding whitespace allowed); the error says why not.
Result<Json> ParseOneJsonObject(std::string_view text);

struct PluginReport {
  Verdict verdict = Verdict::kError;
  std::string reason;
  std::string summary;
  Json details = Json::object();
  Json metrics = Json::object();
  std::vector<std::string> notes;  // tolerated oddities (an unknown key, a non-SPEC reason)
};

// Validates a result printed on stdout.
Result<PluginReport> ParsePluginReport(std::string_view out);

struct RunFailure {
  Reason reason;
  std::string summary;
};

// The runner's verdict when the run went wrong (see the table above); nullopt when the plugin
// exited by itself, so that its stdout decides.
std::optional<RunFailure> RunFailed(const ChildOutcome& run, const PluginLimits& limits);

// The last non-empty line of stderr ("" when none).
std::string LastStderrLine(const ChildOutcome& run);

// Who ran and how, for a check's details.runner: plugin path and version, exit status or
// signal, wall time, stderr's tail, limits and isolation.
struct PluginIdentity {
  std::string path;
  std::string version;
};

// The check's result for a finished run: details always carry `runner` (see above), metrics
// always wall_ms, cpu_ms and max_rss_mib.
CheckResult InterpretPluginRun(const std::string& kind, const PluginIdentity& plugin,
                               const ChildOutcome& run, const PluginLimits& limits);

}  // namespace bg

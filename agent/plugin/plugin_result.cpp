#include "agent/plugin/plugin_result.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "agent/core/bounded_json.h"

namespace bg {
namespace {

bool IsReasonCode(std::string_view code) {
  return !code.empty() && std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string Shown(const Json& value) {
  std::string text = DumpJson(value);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

Result<Verdict> ParseStatus(const Json& j) {
  const Json* s = j.contains("status") ? &j["status"] : nullptr;
  if (s == nullptr) return Status::Error("\"status\" is missing");
  if (*s == "pass") return Verdict::kPass;
  if (*s == "fail") return Verdict::kFail;
  if (*s == "error") return Verdict::kError;
  return Status::Error("\"status\" must be \"pass\", \"fail\" or \"error\", found " + Shown(*s));
}

// Sets report.reason; notes a code that SPEC.md does not define.
Status ParseReasonInto(const Json& j, PluginReport& report) {
  const Json reason = j.contains("reason") ? j["reason"] : Json();
  const bool empty = reason.is_null() || reason == "";
  if (report.verdict == Verdict::kPass) {
    if (!empty) return Status::Error("\"reason\" given with status \"pass\"");
    return Status::Ok();
  }
  if (empty) return Status::Error("\"reason\" is required with status \"fail\" or \"error\"");
  if (!reason.is_string() || !IsReasonCode(reason.get<std::string>())) {
    return Status::Error("\"reason\" must be a code of [a-z0-9-]+, found " + Shown(reason));
  }
  report.reason = reason.get<std::string>();
  if (!ParseReason(report.reason)) {
    report.notes.push_back("reason \"" + report.reason + "\" is not a SPEC.md code");
  }
  return Status::Ok();
}

Status ParseSummaryInto(const Json& j, PluginReport& report) {
  if (!j.contains("summary") || !j["summary"].is_string()) {
    return Status::Error("\"summary\" must be a string");
  }
  report.summary = j["summary"].get<std::string>();
  std::replace(report.summary.begin(), report.summary.end(), '\n', ' ');
  return Status::Ok();
}

Status ParseDetailsAndMetrics(const Json& j, PluginReport& report) {
  if (j.contains("details")) {
    if (!j["details"].is_object()) return Status::Error("\"details\" must be an object");
    report.details = j["details"];
  }
  if (j.contains("metrics")) {
    if (!j["metrics"].is_object()) return Status::Error("\"metrics\" must be an object");
    for (const auto& [name, value] : j["metrics"].items()) {
      if (!value.is_number()) {
        return Status::Error("metric \"" + name + "\" must be a number, found " + Shown(value));
      }
    }
    report.metrics = j["metrics"];
  }
  return Status::Ok();
}

void NoteUnknownKeys(const Json& j, PluginReport& report) {
  static const std::set<std::string> kKnown = {"protocol", "status",  "reason",
                                               "summary",  "details", "metrics"};
  std::string unknown;
  for (const auto& [key, value] : j.items()) {
    if (!kKnown.count(key)) unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty()) report.notes.push_back("ignored unknown keys: " + unknown);
}

bool MentionsMemory(const std::string& text) {
  for (const char* needle : {"MemoryError", "bad_alloc", "Cannot allocate memory",
                             "out of memory", "Out of memory", "DefaultCPUAllocator"}) {
    if (text.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string MemoryHint(const ChildOutcome& run, const PluginLimits& limits) {
  if (limits.memory_mb == 0 || !MentionsMemory(run.err_tail)) return "";
  return " (out of memory? memory_mb = " + std::to_string(limits.memory_mb) + ")";
}

std::string WithStderr(std::string summary, const ChildOutcome& run) {
  const std::string line = LastStderrLine(run);
  return line.empty() ? summary : summary + "; stderr: " + line;
}

bool HitCpuLimit(const ChildOutcome& run, const PluginLimits& limits) {
  if (run.signal == SIGXCPU) return true;
  return run.signal == SIGKILL && limits.cpu_s > 0 &&
         run.cpu_ms >= static_cast<double>(limits.cpu_s) * 1000.0;
}

std::string TimeoutSummary(const ChildOutcome& run, const PluginLimits& limits) {
  const std::string limit = "timeout_s = " + std::to_string(limits.timeout.count());
  if (run.exited) {
    return "exited, but a process it started outside its process group kept its output open "
           "past " + limit;
  }
  return "no result within " + limit + "; its process group was killed";
}

std::string NoResultSummary(const ChildOutcome& run, const Status& why,
                            const PluginLimits& limits) {
  const bool empty = run.out.find_first_not_of(" \t\r\n") == std::string::npos;
  std::string summary = empty ? "printed no result on stdout" : "invalid result: " + why.message();
  if (run.exit_code != 0) summary += " (exit status " + std::to_string(run.exit_code) + ")";
  return WithStderr(summary + MemoryHint(run, limits), run);
}

Json RunnerDetails(const PluginIdentity& plugin, const ChildOutcome& run,
                   const PluginLimits& limits) {
  Json r = {{"plugin", plugin.path}, {"version", plugin.version}};
  if (run.exited) r["exit_status"] = run.exit_code;
  if (run.signal != 0) r["signal"] = SignalName(run.signal);
  if (run.timed_out) r["timed_out"] = true;
  if (run.stdout_overflow) r["stdout_overflow"] = true;
  if (run.stdin_incomplete) r["stdin_incomplete"] = true;
  r["wall_ms"] = std::round(run.wall_ms * 1000.0) / 1000.0;
  r["stderr_tail"] = run.err_tail;
  r["stderr_bytes"] = run.err_bytes;
  r["limits"] = {{"timeout_s", limits.timeout.count()},
                 {"memory_mb", limits.memory_mb},
                 {"cpu_s", limits.cpu_s},
                 {"max_output_kb", limits.max_output_kb}};
  if (run.start_error.ok()) r["isolation"] = run.isolation.ToJson();
  return r;
}

CheckResult VerdictOf(const std::string& kind, const ChildOutcome& run,
                      const PluginLimits& limits, std::vector<std::string>& notes) {
  if (auto failure = RunFailed(run, limits)) {
    return CheckResult::Error(kind, failure->reason, failure->summary);
  }
  auto report = ParsePluginReport(run.out);
  if (!report.ok()) {
    return CheckResult::Error(kind, Reason::kPluginError,
                              NoResultSummary(run, report.status(), limits));
  }
  if (report->verdict == Verdict::kPass && run.exit_code != 0) {
    return CheckResult::Error(kind, Reason::kPluginError,
                              WithStderr("reported pass but exited with status " +
                                             std::to_string(run.exit_code), run));
  }
  CheckResult r;
  r.check = kind;
  r.verdict = report->verdict;
  r.reason = report->reason;
  r.summary = report->summary;
  r.details = report->details;
  r.metrics = report->metrics;
  notes = report->notes;
  return r;
}

}  // namespace

Result<Json> ParseOneJsonObject(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::Error("nothing printed");
  }
  // Bounded: a plugin is untrusted, and nlohmann recurses once per nesting level.
  auto parsed = ParseBoundedJson(text, "the output", JsonLimits{text.size(), 64});
  if (!parsed.ok()) return Status::Error("not one JSON object: " + parsed.status().message());
  Json j = std::move(parsed).value();
  if (!j.is_object()) return Status::Error("not a JSON object but " + std::string(j.type_name()));
  return j;
}

Result<PluginReport> ParsePluginReport(std::string_view out) {
  BG_ASSIGN_OR_RETURN(Json j, ParseOneJsonObject(out));
  if (!j.contains("protocol") || !j["protocol"].is_number_integer() || j["protocol"] != 1) {
    return Status::Error("\"protocol\" must be 1, found " +
                         (j.contains("protocol") ? Shown(j["protocol"]) : "nothing"));
  }
  PluginReport report;
  BG_ASSIGN_OR_RETURN(report.verdict, ParseStatus(j));
  BG_RETURN_IF_ERROR(ParseReasonInto(j, report));
  BG_RETURN_IF_ERROR(ParseSummaryInto(j, report));
  BG_RETURN_IF_ERROR(ParseDetailsAndMetrics(j, report));
  NoteUnknownKeys(j, report);
  return report;
}

std::optional<RunFailure> RunFailed(const ChildOutcome& run, const PluginLimits& limits) {
  if (!run.start_error.ok()) {
    return RunFailure{Reason::kPluginError, "could not run: " + run.start_error.message()};
  }
  if (run.cancelled) {
    return RunFailure{Reason::kPluginError, "cancelled: the agent is shutting down"};
  }
  if (run.timed_out) return RunFailure{Reason::kPluginTimeout, TimeoutSummary(run, limits)};
  if (run.stdout_overflow) {
    return RunFailure{Reason::kPluginError,
                      "printed more than max_output_kb = " + std::to_string(limits.max_output_kb) +
                          " KiB on stdout; killed"};
  }
  if (HitCpuLimit(run, limits)) {
    return RunFailure{Reason::kPluginTimeout,
                      "used up its CPU time (cpu_s = " + std::to_string(limits.cpu_s) + ")"};
  }
  if (run.signal != 0) {
    return RunFailure{Reason::kPluginCrashed,
                      WithStderr("killed by " + SignalName(run.signal) + MemoryHint(run, limits),
                                 run)};
  }
  if (run.status_lost) {
    return RunFailure{Reason::kPluginError, "its exit status was lost (reaped elsewhere)"};
  }
  return std::nullopt;
}

std::string LastStderrLine(const ChildOutcome& run) {
  const std::string& err = run.err_tail;
  const auto end = err.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return "";
  const auto newline = err.rfind('\n', end);
  const auto begin = newline == std::string::npos ? 0 : newline + 1;
  std::string line = err.substr(begin, end + 1 - begin);
  if (line.size() > 300) line = line.substr(0, 297) + "...";
  return line;
}

CheckResult InterpretPluginRun(const std::string& kind, const PluginIdentity& plugin,
                               const ChildOutcome& run, const PluginLimits& limits) {
  if (!run.start_error.ok() && run.start_error.error_number() != 0) {
    // fork, pipe or a descriptor refused (EAGAIN, EMFILE, ENOMEM...): the agent's own failure,
    // not the plugin's and not the bundle's. Held: the bundle is checked again later.
    CheckResult held = CheckResult::Held(kind, run.start_error.WithContext("starting the plugin"));
    held.details["runner"] = {{"plugin", plugin.path}, {"version", plugin.version}};
    return held;
  }
  std::vector<std::string> notes;
  CheckResult r = VerdictOf(kind, run, limits, notes);
  Json runner = RunnerDetails(plugin, run, limits);
  if (!notes.empty()) runner["notes"] = notes;
  r.details["runner"] = std::move(runner);
  r.metrics["wall_ms"] = std::round(run.wall_ms * 1000.0) / 1000.0;
  r.metrics["cpu_ms"] = std::round(run.cpu_ms * 1000.0) / 1000.0;
  r.metrics["max_rss_mib"] = std::round(static_cast<double>(run.max_rss_kb) / 1024.0 * 10) / 10;
  return r;
}

}  // namespace bg

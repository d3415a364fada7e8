#include "agent/plugin/describe.h"

#include <algorithm>

#include "agent/plugin/child_process.h"
#include "agent/plugin/plugin_result.h"

namespace bg {
namespace {

Result<std::vector<std::string>> ParseFormats(const Json& j) {
  const Json* formats = j.contains("model_formats") ? &j["model_formats"] : nullptr;
  if (!formats && j.contains("runtime") && j["runtime"].contains("model_formats")) {
    formats = &j["runtime"]["model_formats"];
  }
  std::vector<std::string> out;
  if (!formats) return out;
  if (!formats->is_array()) return Status::Error("\"model_formats\" must be an array of strings");
  for (const auto& f : *formats) {
    if (!f.is_string()) return Status::Error("\"model_formats\" must be an array of strings");
    out.push_back(f.get<std::string>());
  }
  return out;
}

Status CheckString(const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string() || j[key].get<std::string>().empty()) {
    return Status::Error(std::string("\"") + key + "\" must be a non-empty string");
  }
  return Status::Ok();
}

std::string RunProblem(const ChildOutcome& run, const PluginLimits& limits) {
  if (auto failure = RunFailed(run, limits)) return failure->summary;
  if (run.exit_code == 0) return "";
  std::string problem = "exited with status " + std::to_string(run.exit_code);
  const std::string line = LastStderrLine(run);
  return line.empty() ? problem : problem + "; stderr: " + line;
}

}  // namespace

bool PluginDescription::HandlesFormat(std::string_view format) const {
  return model_formats.empty() ||
         std::find(model_formats.begin(), model_formats.end(), format) != model_formats.end();
}

Result<PluginDescription> ParseDescription(std::string_view out, std::string_view kind) {
  BG_ASSIGN_OR_RETURN(Json j, ParseOneJsonObject(out));
  if (!j.contains("protocol") || !j["protocol"].is_number_integer() || j["protocol"] != 1) {
    return Status::Error("\"protocol\" must be 1");
  }
  BG_RETURN_IF_ERROR(CheckString(j, "kind"));
  BG_RETURN_IF_ERROR(CheckString(j, "version"));
  PluginDescription d;
  d.kind = j["kind"].get<std::string>();
  if (d.kind != kind) {
    return Status::Error("says it is kind \"" + d.kind + "\", but is installed as kind \"" +
                         std::string(kind) + "\"");
  }
  d.version = j["version"].get<std::string>();
  if (j.contains("runtime")) {
    if (!j["runtime"].is_object()) return Status::Error("\"runtime\" must be an object");
    d.runtime = j["runtime"];
  }
  BG_ASSIGN_OR_RETURN(d.model_formats, ParseFormats(j));
  if (j.contains("serve")) {
    if (!j["serve"].is_boolean()) return Status::Error("\"serve\" must be true or false");
    d.serve = j["serve"].get<bool>();
  }
  d.raw = std::move(j);
  return d;
}

Result<PluginDescription> DescribePlugin(const std::string& path, std::string_view kind,
                                         PluginLimits limits, const PluginSandbox& sandbox) {
  limits.timeout = std::min(limits.timeout, kDescribeTimeout);
  const ChildOutcome run = RunChild(PluginChildRun(path, {"--describe"}, limits, "", sandbox));
  const std::string context = path + " --describe";
  if (const std::string problem = RunProblem(run, limits); !problem.empty()) {
    return Status::Error(context + ": " + problem);
  }
  auto d = ParseDescription(run.out, kind);
  if (!d.ok()) return d.status().WithContext(context);
  return d;
}

}  // namespace bg

#include "agent/daemon/status_report.h"

#include <filesystem>

#include "agent/core/file_contents.h"
#include "agent/serving/serving_layout.h"
#include "agent/serving/serving_lock.h"

namespace bg {
namespace {

std::size_t CountEntries(const std::string& dir) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().filename().string()[0] != '.') ++n;
  }
  return n;
}

Json ReadStatusFile(const std::string& path) {
  const auto text = ReadFileContents(path);
  if (!text) return Json();
  const Json j = Json::parse(*text, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

}  // namespace

Json CollectStatus(const Config& config, const std::optional<Json>& live_agent) {
  const ServingLayout layout{config.paths.serving, config.paths.quarantine};
  Json models = Json::array();
  for (const auto& name : ListModels(layout)) {
    models.push_back({{"name", name},
                      {"current", ReadCurrent(layout, name).value_or("")},
                      {"versions", ListVersions(layout, name)}});
  }
  const bool running = live_agent ? true : FileLock::IsHeld(AgentLockPath(config.paths.root));
  Json agent = live_agent ? *live_agent : ReadStatusFile(config.paths.root + "/status.json");
  return {{"root", config.paths.root},
          {"running", running},
          {"inbox_entries", CountEntries(config.paths.inbox)},
          {"work_entries", CountEntries(config.paths.work)},
          {"quarantined", CountEntries(config.paths.quarantine)},
          {"served", models},
          {"agent", agent}};
}

}  // namespace bg

#include "agent/serving/serving_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "agent/core/clock.h"
#include "agent/core/errno_status.h"
#include "agent/core/tree_ops.h"
#include "agent/manifest/manifest.h"

namespace bg {

std::optional<std::string> ReadCurrent(const ServingLayout& layout, const std::string& name) {
  char buf[512];
  const ssize_t n = ::readlink(layout.CurrentLink(name).c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

Status SwapCurrent(const ServingLayout& layout, const std::string& name, const std::string& version,
                   Env& env) {
  if (ReadCurrent(layout, name) == version) return Status::Ok();
  static std::atomic<unsigned> counter{0};
  const std::string tmp = layout.ModelDir(name) + "/.current.tmp-" + std::to_string(::getpid()) +
                          "-" + std::to_string(counter.fetch_add(1));
  ::unlink(tmp.c_str());
  BG_RETURN_IF_ERROR(env.Symlink(version, tmp));
  Status st = env.Rename(tmp, layout.CurrentLink(name), RenameMode::kReplace);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

std::vector<HistoryEntry> ReadHistory(const ServingLayout& layout, const std::string& name) {
  std::vector<HistoryEntry> out;
  std::ifstream in(layout.HistoryFile(name));
  std::string line;
  while (std::getline(in, line)) {
    const Json j = Json::parse(line, nullptr, false);
    if (!j.is_object()) continue;  // a torn last line after a crash: ignored, rewritten later
    out.push_back({j.value("event", ""), j.value("version", ""), j.value("time", ""),
                   j.value("arrival", "")});
  }
  return out;
}

Status AppendHistory(const ServingLayout& layout, const std::string& name, const HistoryEntry& entry,
                     Env& env) {
  const auto history = ReadHistory(layout, name);
  if (!history.empty() && history.back().event == entry.event &&
      history.back().version == entry.version) {
    return Status::Ok();
  }
  const std::string path = layout.HistoryFile(name);
  BG_ASSIGN_OR_RETURN(UniqueFd fd, env.Open(path, O_RDWR | O_CREAT | O_APPEND, 0640));
  // Start on a fresh line should a crash have left a torn one.
  std::string line;
  if (::lseek(fd.get(), 0, SEEK_END) > 0) {
    char last = '\n';
    if (::pread(fd.get(), &last, 1, ::lseek(fd.get(), 0, SEEK_END) - 1) == 1 && last != '\n') {
      line = "\n";
    }
  }
  Json j = {{"event", entry.event}, {"version", entry.version}, {"time", entry.time}};
  if (!entry.arrival.empty()) j["arrival"] = entry.arrival;
  line += DumpJson(j) + "\n";
  return env.WriteAll(fd.get(), line, path);
}

std::vector<std::string> PromotionOrder(const std::vector<HistoryEntry>& history) {
  std::vector<std::string> order;
  for (const auto& e : history) {
    if (e.event != "promoted" && e.event != "added") continue;
    order.erase(std::remove(order.begin(), order.end(), e.version), order.end());
    order.push_back(e.version);
  }
  return order;
}

std::optional<std::string> ArrivalOf(const std::vector<HistoryEntry>& history,
                                       const std::string& version) {
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->version == version && it->event == "promoted" && !it->arrival.empty()) {
      return it->arrival;
    }
  }
  return std::nullopt;
}

std::vector<std::string> CurrentStack(const std::vector<HistoryEntry>& history) {
  std::vector<std::string> stack;
  for (const auto& e : history) {
    auto it = std::find(stack.begin(), stack.end(), e.version);
    if (e.event == "promoted") {
      if (it != stack.end()) stack.erase(it);
      stack.push_back(e.version);
    } else if (e.event == "rolled-back") {
      if (it != stack.end()) {
        stack.erase(it + 1, stack.end());
      } else {
        stack.push_back(e.version);
      }
    }
  }
  return stack;
}

std::optional<std::string> VersionBeforeCurrent(const ServingLayout& layout, const std::string& name) {
  const auto stack = CurrentStack(ReadHistory(layout, name));
  const auto current = ReadCurrent(layout, name);
  if (stack.empty() || !current || stack.back() != *current) {
    // The link and the history disagree (a crash between them): trust the link, and take the
    // newest other version the history knows.
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
      if (current && *it != *current && IsDirectory(layout.VersionDir(name, *it))) return *it;
    }
    return std::nullopt;
  }
  for (auto it = stack.rbegin() + 1; it != stack.rend(); ++it) {
    if (IsDirectory(layout.VersionDir(name, *it))) return *it;
  }
  return std::nullopt;
}

std::vector<std::string> ListModels(const ServingLayout& layout) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(layout.serving, ec)) {
    const std::string n = e.path().filename().string();
    if (IsValidBundleName(n) && e.is_directory(ec)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> ListVersions(const ServingLayout& layout, const std::string& name) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(layout.ModelDir(name), ec)) {
    const std::string v = e.path().filename().string();
    if (v != "current" && IsValidBundleVersion(v) && !e.is_symlink(ec) && e.is_directory(ec)) {
      out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace bg

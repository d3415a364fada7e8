#include "agent/serving/serving_layout.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include "agent/core/bounded_json.h"
#include "agent/core/clock.h"
#include "agent/core/errno_status.h"
#include "agent/core/file_contents.h"
#include "agent/core/tree_ops.h"
#include "agent/manifest/manifest.h"

namespace bg {

bool IsPlainVersion(const std::string& name, const std::string& version) {
  return IsValidBundleName(name) && IsValidBundleVersion(version);
}

std::optional<std::string> ReadCurrent(const ServingLayout& layout, const std::string& name) {
  char buf[512];
  const ssize_t n = ::readlink(layout.CurrentLink(name).c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

Status SwapCurrent(const ServingLayout& layout, const std::string& name, const std::string& version,
                   Env& env) {
  if (!IsPlainVersion(name, version)) {
    return Status::Error("refusing to point " + layout.CurrentLink(name) + " at \"" + version +
                         "\": not a plain version directory");
  }
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

namespace {

// One line of the history (they are short; a longer line is not ours).
constexpr JsonLimits kHistoryLineLimits{64 * 1024, 8};

Json HistoryJson(const HistoryEntry& entry) {
  Json j = {{"event", entry.event}, {"version", entry.version}, {"time", entry.time}};
  if (!entry.arrival.empty()) j["arrival"] = entry.arrival;
  if (!entry.intake_id.empty()) j["intake_id"] = entry.intake_id;
  if (!entry.rollback_id.empty()) j["rollback_id"] = entry.rollback_id;
  if (!entry.from.empty()) j["from"] = entry.from;
  return j;
}

bool AlreadyThere(const std::vector<HistoryEntry>& history, const HistoryEntry& entry) {
  if (!entry.intake_id.empty() || !entry.rollback_id.empty()) {
    return std::any_of(history.begin(), history.end(), [&](const HistoryEntry& e) {
      return e.event == entry.event && e.intake_id == entry.intake_id &&
             e.rollback_id == entry.rollback_id;
    });
  }
  return !history.empty() && history.back().event == entry.event &&
         history.back().version == entry.version;
}

// The redo after a failed fdatasync: the whole file, through a new file, synced and renamed.
Status RewriteHistory(const std::string& path, const std::string& text, Env& env) {
  std::string body = text;
  if (!body.empty() && body.back() != '\n') body += "\n";
  return env.WriteFileAtomic(path, body, 0640, /*durable=*/true);
}

}  // namespace

std::vector<HistoryEntry> ReadHistory(const ServingLayout& layout, const std::string& name) {
  std::vector<HistoryEntry> out;
  std::ifstream in(layout.HistoryFile(name));
  std::string line;
  while (std::getline(in, line)) {
    auto parsed = ParseBoundedJson(line, "a history line", kHistoryLineLimits);
    if (!parsed.ok() || !parsed->is_object()) continue;  // a torn line after a crash: ignored
    const Json& j = *parsed;
    const auto text = [&](const char* key) {
      const auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    out.push_back({text("event"), text("version"), text("time"), text("arrival"),
                   text("intake_id"), text("rollback_id"), text("from")});
  }
  return out;
}

Status AppendHistory(const ServingLayout& layout, const std::string& name, const HistoryEntry& entry,
                     Env& env) {
  if (AlreadyThere(ReadHistory(layout, name), entry)) return Status::Ok();
  const std::string path = layout.HistoryFile(name);
  BG_ASSIGN_OR_RETURN(UniqueFd fd, env.Open(path, O_RDWR | O_CREAT | O_APPEND, 0640));
  // Start on a fresh line should a crash have left a torn one.
  std::string line;
  const off_t end = ::lseek(fd.get(), 0, SEEK_END);
  if (end > 0) {
    char last = '\n';
    if (::pread(fd.get(), &last, 1, end - 1) == 1 && last != '\n') line = "\n";
  }
  line += DumpJson(HistoryJson(entry)) + "\n";
  BG_RETURN_IF_ERROR(env.WriteAll(fd.get(), line, path));
  Status synced = env.Fsync(fd.get(), path);
  if (synced.ok()) return synced;
  // The failed write-back may have dropped those pages: write everything again, elsewhere.
  const auto text = ReadFileContents(path);
  if (!text) return synced;
  return RewriteHistory(path, *text, env).WithContext("after " + synced.message());
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
    if (IsPlainVersion(name, v) && !e.is_symlink(ec) && e.is_directory(ec)) {
      out.push_back(v);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace bg

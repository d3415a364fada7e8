// DescribeCache: what plugins said to --describe (describe.h), remembered across runs of
// bundlegate for as long as the plugin file stays the same, so that `bundlegate check` does not
// start LibTorch just to learn its version every time it is run.
//
// What keys an answer: the identity (file_identity.h: device, inode, size, mtime, ctime) of the
// plugin file, and of every file the plugin names in its description as something its answer
// depends on:
//     "cache": {"depends_on": ["/usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13", ...]}
// (absolute paths; an interpreted plugin names its interpreter's packages here), or
//     "cache": false
// for a plugin whose description must be asked for every time. A remembered answer is used only
// when every one of those files still has the identity it had; it is parsed and validated again
// exactly as a fresh answer is (ParseDescription), so a cache can save a --describe run and do
// nothing else.
//
// An answer is remembered only when the plugin and each named file were last changed (ctime)
// more than kSettleSeconds before --describe started and the plugin is the same file after it:
// a file that changes while the plugin describes itself cannot be paired with the wrong answer.
//
// The cache file is JSON, at most kMaxFileBytes and kMaxEntries, written whole to a temporary
// file and renamed over (a crash leaves the old or the new file, never a mix; two processes
// writing at once lose one's update, never the file). It is read only when it is a regular file
// owned by this user, in a directory owned by this user, neither writable by group or others;
// anything else (missing, foreign, unreadable, too large, corrupt, another format) reads as
// empty and is replaced on the next write. Failing to write it is never an error.
//
// Thread safety: all methods may be called from several threads; one mutex.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/plugin/describe.h"
#include "agent/plugin/file_identity.h"

namespace bg {

class DescribeCache {
 public:
  static constexpr std::size_t kMaxFileBytes = 1u << 20;
  static constexpr std::size_t kMaxEntries = 64;
  static constexpr std::size_t kMaxDependsOn = 64;
  static constexpr std::int64_t kSettleSeconds = 2;

  // `file`: the cache file; "" keeps answers in this process's memory only.
  explicit DescribeCache(std::string file);

  // The description of the plugin at `path` (installed as kind `kind`): a remembered one
  // whose files are all unchanged, else `path --describe` run now (describe.h; its errors are
  // returned and nothing is remembered).
  Result<PluginDescription> Describe(const std::string& path, std::string_view kind,
                                     const PluginLimits& limits = {});
  // Only a remembered answer, or nullopt: never runs the plugin.
  std::optional<PluginDescription> Lookup(const std::string& path, std::string_view kind);

  struct Stats {
    std::uint64_t hits = 0;       // answers from memory or the file
    std::uint64_t described = 0;  // --describe runs
    std::uint64_t stored = 0;     // answers written to the file
  };
  Stats stats() const;
  const std::string& file() const { return file_; }

 private:
  struct Entry {
    std::string kind;
    std::vector<std::pair<std::string, FileIdentity>> files;  // the plugin first
    Json description;
  };

  std::optional<PluginDescription> LookupLocked(const std::string& path, std::string_view kind);
  void LoadLocked();
  void Remember(const std::string& path, std::string_view kind, const PluginDescription& d,
                const FileIdentity& before, std::int64_t started_ns);
  void WriteLocked();

  const std::string file_;
  mutable std::mutex mu_;
  bool loaded_ = false;
  std::map<std::string, Entry> entries_;  // by plugin path
  Stats stats_;
};

// Where the cache lives, "" for none:
//   BUNDLEGATE_CACHE_DIR set: "<it>/plugin-describe.json", or none when it is "" or "off";
//   the agent (bundlegate run): "<root>/cache/plugin-describe.json";
//   the command line: "$XDG_CACHE_HOME/bundlegate/..." or "$HOME/.cache/bundlegate/...".
std::string DescribeCacheFile(bool agent, const std::string& root);

}  // namespace bg

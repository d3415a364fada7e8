#include "agent/watch/readiness_probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <string_view>

#include "agent/bundle/bundle_dir.h"
#include "agent/core/sha256.h"
#include "agent/core/tree_ops.h"
#include "agent/core/unique_fd.h"
#include "agent/manifest/manifest.h"
#include "agent/toml/toml_document.h"

namespace bg {
namespace {

struct Listing {
  std::map<std::string, struct stat> entries;  // relative path -> lstat
  bool over_limits = false;
};

std::string StatLine(const std::string& rel, const struct stat& st) {
  return rel + '\0' + std::to_string(st.st_mode) + '\0' + std::to_string(st.st_size) + '\0' +
         std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '\0' +
         std::to_string(st.st_ino) + '\n';
}

// Lists the tree under `dirfd` (consumed), without following symlinks.
void ListTree(int dirfd, const std::string& rel, int depth, const LimitsConfig& limits,
              Listing& out) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dirfd), ::closedir);
  if (!dir) {
    ::close(dirfd);
    return;
  }
  while (const dirent* e = ::readdir(dir.get())) {
    const std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    if (out.entries.size() >= limits.max_files) {
      out.over_limits = true;
      return;
    }
    const std::string child = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
    struct stat st;
    if (::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    out.entries[child] = st;
    if (S_ISDIR(st.st_mode)) {
      if (depth + 1 > limits.max_depth) {
        out.over_limits = true;
        return;
      }
      const int sub = ::openat(::dirfd(dir.get()), e->d_name,
                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) ListTree(sub, child, depth + 1, limits, out);
      if (out.over_limits) return;
    }
  }
}

std::string Fingerprint(const Listing& listing) {
  Sha256 h;
  for (const auto& [rel, st] : listing.entries) h.Update(StatLine(rel, st));
  return h.FinalHex();
}

// Completeness from bundle.toml: parses, and every listed file is there at its declared size.
void JudgeCompleteness(const BundleDir& dir, const Listing& listing, const LimitsConfig& limits,
                       SettleTracker::Observation& obs) {
  auto text = dir.ReadFile(kManifestFileName, limits.max_manifest_bytes);
  if (!text.ok()) {
    if (text.status().reason() == Reason::kFileMissing) {
      obs.why_not = "no bundle.toml yet";
    } else {
      obs.complete = true;  // unsafe or oversized: never going to be valid, reject it
    }
    return;
  }
  auto doc = ParseToml(*text, kManifestFileName);
  if (!doc.ok()) {
    obs.why_not = "bundle.toml does not parse yet: " + doc.status().message();
    return;
  }
  const Json& files = doc->root.contains("files") ? doc->root["files"] : Json();
  if (!files.is_array()) {
    obs.complete = true;  // parses but has no [[files]]: manifest-invalid, not incomplete
    return;
  }
  for (const auto& f : files) {
    if (!f.is_object() || !f.contains("path") || !f["path"].is_string() || !f.contains("size") ||
        !f["size"].is_number_integer()) {
      continue;  // ill-typed entries are the manifest check's to report
    }
    const std::string path = f["path"].get<std::string>();
    const auto it = listing.entries.find(path);
    if (it == listing.entries.end()) {
      if (!IsSafeRelativePath(path)) continue;  // integrity will call it unsafe
      obs.why_not = "waiting for " + path;
      return;
    }
    // Smaller than declared: still being written, perhaps. Larger can only be wrong, and
    // waiting will not fix it: integrity will say size-mismatch.
    const auto declared = f["size"].get<std::int64_t>();
    if (S_ISREG(it->second.st_mode) && it->second.st_size < declared) {
      obs.why_not = path + " has " + std::to_string(it->second.st_size) + " of " +
                    std::to_string(declared) + " bytes";
      return;
    }
  }
  obs.complete = true;
}

}  // namespace

ProbeResult ProbeInboxEntry(const std::string& inbox, const std::string& name,
                            const LimitsConfig& limits) {
  ProbeResult result;
  SettleTracker::Observation& obs = result.observation;
  const std::string path = inbox + "/" + name;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    result.exists = false;
    return result;
  }
  if (!S_ISDIR(st.st_mode)) {
    obs.complete = true;
    obs.fingerprint = Sha256Hex(StatLine(name, st));
    obs.why_not = "not a directory";
    return result;
  }
  auto dir = BundleDir::Open(path);
  if (!dir.ok()) {
    // There, but not openable (permissions, say): it settles, is claimed, and copy intake
    // finds out what is wrong with it; forgetting it would leave it in the inbox for good.
    result.exists = PathExists(path);
    obs.complete = true;
    obs.fingerprint = Sha256Hex(StatLine(name, st));
    obs.why_not = "cannot be opened: " + dir.status().message();
    return result;
  }
  Listing listing;
  const int fd = ::openat(dir->fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) ListTree(fd, "", 0, limits, listing);
  obs.fingerprint = Fingerprint(listing);
  if (listing.over_limits) {
    obs.complete = true;
    return result;
  }
  JudgeCompleteness(*dir, listing, limits, obs);
  return result;
}

}  // namespace bg

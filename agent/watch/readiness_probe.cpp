#include "agent/watch/readiness_probe.h"

#include <sys/stat.h>

#include <algorithm>
#include <string_view>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/bundle/declared_files.h"
#include "agent/core/sha256.h"
#include "agent/core/tree_ops.h"
#include "agent/manifest/manifest.h"
#include "agent/toml/toml_document.h"

namespace bg {
namespace {

std::string StatLine(const std::string& rel, const struct stat& st) {
  return rel + '\0' + std::to_string(st.st_mode) + '\0' + std::to_string(st.st_size) + '\0' +
         std::to_string(st.st_mtim.tv_sec) + '.' + std::to_string(st.st_mtim.tv_nsec) + '\0' +
         std::to_string(st.st_ino) + '\n';
}

// The walk's visitor: fingerprints every entry; files are not opened.
class FingerprintVisitor : public WalkVisitor {
 public:
  void OnEntry(const std::string& rel, const struct stat& st) override { hash_.Update(StatLine(rel, st)); }
  Status OnFile(const std::string&, const FileToRead&, WalkedFile*) override { return Status::Ok(); }
  std::string Fingerprint() { return hash_.FinalHex(); }

 private:
  Sha256 hash_;
};

std::string FirstFinding(const WalkReport& walk) {
  if (!walk.unsafe.empty()) return "unsafe: " + walk.unsafe.front().path + " is a " + walk.unsafe.front().why;
  return "over its limits: " + walk.limit_exceeded.value_or("");
}

// Completeness from bundle.toml: parses, and every listed file is there at its declared size.
// Returns an operational failure, if reading bundle.toml met one.
Status JudgeCompleteness(const BundleDir& dir, const WalkReport& walk, const LimitsConfig& limits,
                         ProbeResult& result) {
  SettleTracker::Observation& obs = result.observation;
  auto text = dir.ReadFile(kManifestFileName, limits.max_manifest_bytes);
  if (!text.ok()) {
    if (!text.status().IsVerdict()) return text.status();
    if (text.status().reason() == Reason::kFileMissing) {
      obs.why_not = "no bundle.toml yet";
    } else {
      obs.complete = true;  // unsafe or oversized: never going to be valid, reject it
    }
    return Status::Ok();
  }
  auto doc = ParseToml(*text, kManifestFileName);
  if (!doc.ok()) {
    obs.why_not = "bundle.toml does not parse: " + doc.status().message();
    obs.manifest_unparsable = true;
    return Status::Ok();
  }
  const DeclaredFiles declared = ReadDeclaredFiles(doc->root);
  result.bytes = std::max<std::uint64_t>(declared.total_bytes + text->size(), walk.total_bytes);
  if (!declared.has_files_array) {
    obs.complete = true;  // parses but has no [[files]]: manifest-invalid, not incomplete
    return Status::Ok();
  }
  for (const auto& [path, size] : declared.sizes) {
    const WalkedFile* found = walk.FindFile(path);
    if (found == nullptr) {
      const bool is_dir = std::binary_search(walk.directories.begin(), walk.directories.end(), path);
      if (is_dir || !IsSafeRelativePath(path)) continue;  // integrity will say what is wrong
      obs.why_not = "waiting for " + path;
      return Status::Ok();
    }
    // Smaller than declared: still being written, perhaps. Larger can only be wrong, and
    // waiting will not fix it: integrity will say size-mismatch.
    if (found->size < size) {
      obs.why_not = path + " has " + std::to_string(found->size) + " of " + std::to_string(size) + " bytes";
      return Status::Ok();
    }
  }
  obs.complete = true;
  return Status::Ok();
}

}  // namespace

ProbeResult ProbeInboxEntry(const std::string& inbox, const std::string& name,
                            const LimitsConfig& limits, Env& env) {
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
    result.bytes = static_cast<std::uint64_t>(st.st_size);
    return result;
  }
  auto dir = BundleDir::Open(path, env);
  if (!dir.ok()) {
    if (!dir.status().IsVerdict()) {
      result.exists = PathExists(path);
      result.fault = dir.status();
      return result;
    }
    obs.complete = true;  // replaced by something unsafe since the lstat: reject what it is
    obs.fingerprint = Sha256Hex(StatLine(name, st));
    return result;
  }
  FingerprintVisitor fingerprint;
  WalkOptions options;
  options.open_files = false;
  options.env = &env;
  auto walk = WalkBundle(*dir, limits, fingerprint, options);
  if (!walk.ok()) {
    result.fault = walk.status();
    return result;
  }
  obs.fingerprint = fingerprint.Fingerprint();
  result.bytes = walk->total_bytes;
  if (!walk->safe()) {
    obs.complete = true;  // the checks will say unsafe-path or limit-exceeded: no waiting
    obs.why_not = FirstFinding(*walk);
    return result;
  }
  result.fault = JudgeCompleteness(*dir, *walk, limits, result);
  return result;
}

}  // namespace bg

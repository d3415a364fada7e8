#include "agent/signature/model_signing_manifest.h"

#include <map>

#include "agent/manifest/manifest.h"

namespace bg {
namespace {

constexpr const char* kGitPaths[] = {".git", ".gitattributes", ".github", ".gitignore"};

bool Exempt(const std::string& path, const ModelSigningStatement& statement,
            const ResourcePolicy& policy) {
  if (!policy.signature_path.empty() && path == policy.signature_path) return true;
  if (path == kManifestSignatureFileName) return true;
  for (const auto& p : policy.ignore_paths) {
    if (PathIsUnder(path, p)) return true;
  }
  if (policy.honour_signed_ignore_paths) {
    for (const auto& p : statement.ignore_paths) {
      if (PathIsUnder(path, p)) return true;
    }
  }
  if (policy.ignore_git_paths) {
    for (const char* p : kGitPaths) {
      if (PathIsUnder(path, p)) return true;
    }
  }
  return false;
}

}  // namespace

bool PathIsUnder(std::string_view path, std::string_view prefix) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty()) return false;
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::vector<ResourceFinding> CompareResources(const ModelSigningStatement& statement,
                                              const std::vector<WalkedFile>& files,
                                              const ResourcePolicy& policy) {
  std::map<std::string, const WalkedFile*> on_disk;
  for (const auto& f : files) on_disk[f.path] = &f;
  std::map<std::string, const ModelSigningResource*> signed_files;
  for (const auto& r : statement.resources) signed_files[r.name] = &r;

  std::vector<ResourceFinding> modified, missing, unsigned_files;
  for (const auto& [name, r] : signed_files) {
    const auto it = on_disk.find(name);
    if (it == on_disk.end()) {
      missing.push_back({name, "signed but not in the bundle"});
    } else if (it->second->sha256 != r->digest) {
      modified.push_back({name, "modified since signing: sha256 " + it->second->sha256 +
                                    ", signed " + r->digest});
    }
  }
  for (const auto& entry : on_disk) {
    const std::string& path = entry.first;
    if (signed_files.count(path) || Exempt(path, statement, policy)) continue;
    bool signer_ignored = false;
    for (const auto& p : statement.ignore_paths) signer_ignored = signer_ignored || PathIsUnder(path, p);
    unsigned_files.push_back(
        {path, signer_ignored ? "not signed: the signer's ignore_paths leave it out, and the "
                                "config's ignore_paths do not allow it"
                              : "not signed (added after signing, or left out of the signature)"});
  }
  if (policy.require_bundle_toml && !signed_files.count(kManifestFileName) &&
      on_disk.count(kManifestFileName)) {
    // Already listed above as unsigned unless an ignore path exempted it: never allowed.
    bool listed = false;
    for (const auto& u : unsigned_files) listed = listed || u.path == kManifestFileName;
    if (!listed) unsigned_files.push_back({kManifestFileName, "not signed: bundle.toml must be signed"});
  }
  std::vector<ResourceFinding> out;
  for (auto* group : {&modified, &missing, &unsigned_files}) {
    out.insert(out.end(), group->begin(), group->end());
  }
  return out;
}

}  // namespace bg

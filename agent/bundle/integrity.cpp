#include "agent/bundle/integrity.h"

#include <algorithm>

#include "agent/core/sha256.h"

namespace bg {

std::vector<IntegrityFinding> WalkFindings(const WalkReport& walk) {
  std::vector<IntegrityFinding> out;
  for (const auto& u : walk.unsafe) out.push_back({Reason::kUnsafePath, u.path, u.why});
  if (walk.limit_exceeded) out.push_back({Reason::kLimitExceeded, "", *walk.limit_exceeded});
  return out;
}

std::vector<IntegrityFinding> CompareWithManifest(const Manifest& manifest,
                                                  const WalkReport& walk) {
  std::vector<IntegrityFinding> out = WalkFindings(walk);
  std::vector<IntegrityFinding> sizes, hashes, unlisted;
  for (const auto& f : manifest.files) {
    if (!IsSafeRelativePath(f.path)) {
      out.push_back({Reason::kUnsafePath, f.path,
                     "declared path is absolute, has a \"..\", \".\" or empty component, or a "
                     "backslash"});
      continue;
    }
    const WalkedFile* found = walk.FindFile(f.path);
    if (found == nullptr) {
      // An unsafe entry of that name was already reported as such.
      const bool unsafe = std::any_of(walk.unsafe.begin(), walk.unsafe.end(),
                                      [&](const UnsafeEntry& u) { return u.path == f.path; });
      if (!unsafe && !walk.limit_exceeded) {
        out.push_back({Reason::kFileMissing, f.path, "listed in [[files]] but not in the bundle"});
      }
    } else if (found->size != f.size) {
      sizes.push_back({Reason::kSizeMismatch, f.path,
                       "declared " + std::to_string(f.size) + " bytes, found " +
                           (found->truncated ? "more (reading stopped at " +
                                                   std::to_string(found->size) +
                                                   " bytes: larger than declared, or still "
                                                   "growing after the claim)"
                                             : std::to_string(found->size))});
    } else if (found->sha256 != f.sha256) {
      hashes.push_back({Reason::kHashMismatch, f.path,
                        "declared sha256 " + f.sha256 + ", found " + found->sha256});
    }
  }
  for (const auto& w : walk.files) {
    if (w.path == kManifestFileName || w.path == kManifestSignatureFileName ||
        w.path == kModelSignatureFileName) {
      continue;
    }
    if (manifest.FindFile(w.path) == nullptr) {
      unlisted.push_back({Reason::kUnlistedFile, w.path, "in the bundle but not in [[files]]"});
    }
  }
  for (auto* group : {&sizes, &hashes, &unlisted}) {
    out.insert(out.end(), group->begin(), group->end());
  }
  return out;
}

std::string BundleDigest(const std::vector<ManifestFile>& files) {
  std::vector<const ManifestFile*> sorted;
  sorted.reserve(files.size());
  for (const auto& f : files) sorted.push_back(&f);
  std::sort(sorted.begin(), sorted.end(),
            [](const ManifestFile* a, const ManifestFile* b) { return a->path < b->path; });
  Sha256 hash;
  for (const ManifestFile* f : sorted) {
    hash.Update(f->path);
    hash.Update("\0", 1);
    hash.Update(std::to_string(f->size));
    hash.Update("\0", 1);
    hash.Update(f->sha256);
    hash.Update("\n", 1);
  }
  return hash.FinalHex();
}

}  // namespace bg

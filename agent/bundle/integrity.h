// Integrity: what is on disk against what bundle.toml's [[files]] says, and the bundle digest.
//
// Findings come in a fixed order of severity (unsafe-path, limit-exceeded, file-missing,
// size-mismatch, hash-mismatch, unlisted-file), so the first one is the reason a bundle is
// rejected for, and all of them are listed so a producer can fix everything at once.
#pragma once

#include <string>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/reason.h"
#include "agent/manifest/manifest.h"

namespace bg {

struct IntegrityFinding {
  Reason reason;
  std::string path;
  std::string detail;  // "declared 10 bytes, found 12"
};

// Compares the walk with the manifest. bundle.toml and its signatures (bundle.toml.sig, model.sig)
// at the bundle root are not expected in [[files]].
std::vector<IntegrityFinding> CompareWithManifest(const Manifest& manifest, const WalkReport& walk);
// Only the walk's own findings (unsafe entries, crossed limits): for a bundle whose manifest
// could not be read.
std::vector<IntegrityFinding> WalkFindings(const WalkReport& walk);

// SHA-256 over the sorted "path\0size\0sha256\n" lines of `files` (SPEC.md, audit log).
std::string BundleDigest(const std::vector<ManifestFile>& files);

}  // namespace bg

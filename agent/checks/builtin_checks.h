// The checks every bundle goes through before the configured ones: manifest, integrity and the
// duplicate-version part of intake. Plain functions: the pipeline decides when they run.
#pragma once

#include <optional>
#include <string>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/checks/check_result.h"
#include "agent/config/config.h"
#include "agent/manifest/manifest.h"

namespace bg {

struct ManifestCheckOutput {
  CheckResult result;                // check "manifest"
  std::optional<Manifest> manifest;  // when valid
  std::string sha256;                // of bundle.toml's bytes, when it could be read
};

// Reads bundle.toml through `dir` (bounded by limits.max_manifest_bytes) and parses it.
ManifestCheckOutput ReadAndParseManifest(const BundleDir& dir, const LimitsConfig& limits);

// Check "integrity": the walk against [[files]]. With no manifest, only the walk's own findings
// (unsafe entries, crossed limits) can fail it; otherwise it is skipped.
CheckResult IntegrityCheckResult(const Manifest* manifest, const WalkReport& walk);

// Check "intake": is serving/<name>/<version> already there? Identical (same digest and same
// bundle.toml): pass with details.already_served = true. Different: duplicate-version.
CheckResult DuplicateVersionCheckResult(const Manifest& manifest, const std::string& digest,
                                        const std::string& manifest_sha256,
                                        const std::string& serving_dir);

}  // namespace bg

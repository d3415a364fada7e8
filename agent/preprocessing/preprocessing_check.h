// The "preprocessing" check: can the serving stack apply the bundle's preprocessing, and is the
// bundle's spec file the one that version name stands for?
//
// Options of its [[checks]] table:
//   kind = "preprocessing"
//   supported = ["imagenet-norm-v1", "imagenet-norm-v2"]   versions the serving stack applies
//   [checks.known]                     version -> sha256 of its spec file (64 hex): a version
//   "imagenet-norm-v2" = "9b1c..."     name cannot be reused for different content
// At least one of the two is required. Without `supported`, the versions of `known` are the
// supported ones. A version may be in `known` and not in `supported` (retired, but its name
// still pinned to its content).
//
// Verdicts, in this order (every finding is listed in details, the first decides):
//   preprocessing-unsupported    manifest preprocessing.version is not supported
//   preprocessing-spec-mismatch  its spec file (preprocessing.spec, as hashed by the walk) has
//                                another sha256 than `known` says
// A supported version absent from `known` passes; details.spec_pinned says it was not pinned.
// The check errors (preprocessing-spec-mismatch) when the spec file was not hashed by the walk.
//
// Thread safety: immutable after construction; Run may be called from several threads.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "agent/checks/check.h"
#include "agent/checks/check_registry.h"

namespace bg {

class PreprocessingCheck : public Check {
 public:
  // `known`: version -> lower-case hex sha256.
  PreprocessingCheck(std::set<std::string> supported, std::map<std::string, std::string> known);

  std::string_view kind() const override { return "preprocessing"; }
  CheckResult Run(const BundleContext& ctx) override;

  // The verdict for a bundle whose preprocessing is `version` with spec file `spec` hashing to
  // `spec_sha256`.
  CheckResult Evaluate(const std::string& version, const std::string& spec,
                       const std::string& spec_sha256) const;

 private:
  std::string SupportedList() const;

  std::set<std::string> supported_;
  std::map<std::string, std::string> known_;
};

// The registry's factory: reads `supported` and `known`.
std::unique_ptr<Check> MakePreprocessingCheck(TableReader& options, const CheckBuildContext& ctx);

}  // namespace bg

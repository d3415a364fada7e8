// The "lockfile" check: the bundle's dependency lockfile (manifest dependencies.lockfile),
// parsed in whichever of the four formats it is (lockfile.h) and held to a LockfilePolicy
// (lockfile_policy.h).
//
// Options of its [[checks]] table, with their defaults:
//   kind = "lockfile"
//   require_pinned = true          every dependency at one exact version from an index
//   require_hashes = false         every dependency with at least one artifact hash
//   torch_compat = "same-minor"    "same-minor", "same-major", "exact" or "any" (torch_compat.h),
//                                  against the serving runtime's LibTorch ([runtime]
//                                  torch_version); when that is unknown, anything but "any"
//                                  makes the check an `error` (fails closed)
//   deny = []                      PEP 508 names with PEP 440 specifiers: ["torch<2.6",
//                                  "numpy==1.26.0", "pickle5"]
//   max_bytes = 16777216           a larger lockfile is lockfile-invalid
//
// Verdicts: pass; fail with the first finding's reason (lockfile-invalid for a malformed file,
// naming its line); error (reason lockfile-invalid or torch-incompatible) when the lockfile
// cannot be read or the runtime's LibTorch version is unknown and nothing else failed.
// Details: the lockfile, its format, package count, torch versions, and every finding.
//
// Thread safety: immutable after construction; Run may be called from several threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "agent/checks/check.h"
#include "agent/checks/check_registry.h"
#include "agent/lockfile/lockfile_policy.h"

namespace bg {

inline constexpr std::uint64_t kDefaultMaxLockfileBytes = 16u << 20;

class LockfileCheck : public Check {
 public:
  LockfileCheck(LockfilePolicy policy, TorchRuntime runtime,
                std::uint64_t max_bytes = kDefaultMaxLockfileBytes);
  // The runtime asked of `runtime` when a lockfile is first evaluated, once (with
  // torch_version = "auto" that may run the TorchScript plugin's --describe, which a bundle
  // rejected before this check never needs).
  LockfileCheck(LockfilePolicy policy, std::function<std::string()> runtime,
                std::uint64_t max_bytes = kDefaultMaxLockfileBytes);

  std::string_view kind() const override { return "lockfile"; }
  CheckResult Run(const BundleContext& ctx) override;

  // The verdict on an already read lockfile; `path` names it in messages.
  CheckResult Evaluate(std::string_view text, const std::string& path) const;

 private:
  Json Details(const Lockfile& lock, const std::string& path) const;
  std::string PassSummary(const Lockfile& lock) const;

  const TorchRuntime& Runtime() const;

  LockfilePolicy policy_;
  std::function<std::string()> resolve_;  // null when runtime_ was given
  mutable std::once_flag resolved_;
  mutable TorchRuntime runtime_;
  std::uint64_t max_bytes_;
};

// The registry's factory: reads the options above; ctx.torch_version is the runtime's LibTorch.
std::unique_ptr<Check> MakeLockfileCheck(TableReader& options, const CheckBuildContext& ctx);

}  // namespace bg

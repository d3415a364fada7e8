#include "agent/core/reason.h"

#include <array>
#include <utility>

namespace bg {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 39> kCodes{{
    {Reason::kManifestInvalid, "manifest-invalid"},
    {Reason::kFileMissing, "file-missing"},
    {Reason::kSizeMismatch, "size-mismatch"},
    {Reason::kHashMismatch, "hash-mismatch"},
    {Reason::kUnlistedFile, "unlisted-file"},
    {Reason::kUnsafePath, "unsafe-path"},
    {Reason::kLimitExceeded, "limit-exceeded"},
    {Reason::kIncomplete, "incomplete"},
    {Reason::kDuplicateVersion, "duplicate-version"},
    {Reason::kCommitUnknown, "commit-unknown"},
    {Reason::kCommitNotReleased, "commit-not-released"},
    {Reason::kDirtyTree, "dirty-tree"},
    {Reason::kFileDiffersAtCommit, "file-differs-at-commit"},
    {Reason::kCommitUnsigned, "commit-unsigned"},
    {Reason::kCommitSignerUntrusted, "commit-signer-untrusted"},
    {Reason::kLockfileInvalid, "lockfile-invalid"},
    {Reason::kUnpinnedDependency, "unpinned-dependency"},
    {Reason::kMissingHash, "missing-hash"},
    {Reason::kTorchIncompatible, "torch-incompatible"},
    {Reason::kDeniedDependency, "denied-dependency"},
    {Reason::kPreprocessingUnsupported, "preprocessing-unsupported"},
    {Reason::kPreprocessingSpecMismatch, "preprocessing-spec-mismatch"},
    {Reason::kSignatureMissing, "signature-missing"},
    {Reason::kSignatureInvalid, "signature-invalid"},
    {Reason::kSignerUntrusted, "signer-untrusted"},
    {Reason::kUnsafeModel, "unsafe-model"},
    {Reason::kModelLoadFailed, "model-load-failed"},
    {Reason::kTrainingMode, "training-mode"},
    {Reason::kArchitectureMismatch, "architecture-mismatch"},
    {Reason::kParityMismatch, "parity-mismatch"},
    {Reason::kNonFiniteOutput, "non-finite-output"},
    {Reason::kNondeterministic, "nondeterministic"},
    {Reason::kBatchInconsistent, "batch-inconsistent"},
    {Reason::kEdgeCaseFailed, "edge-case-failed"},
    {Reason::kLatencyBudget, "latency-budget"},
    {Reason::kPluginError, "plugin-error"},
    {Reason::kPluginTimeout, "plugin-timeout"},
    {Reason::kPluginCrashed, "plugin-crashed"},
    {Reason::kNone, ""},
}};

}  // namespace

std::string_view ReasonCode(Reason reason) {
  for (const auto& [r, code] : kCodes) {
    if (r == reason) return code;
  }
  return "";
}

std::optional<Reason> ParseReason(std::string_view code) {
  if (code.empty()) return std::nullopt;
  for (const auto& [r, c] : kCodes) {
    if (c == code) return r;
  }
  return std::nullopt;
}

}  // namespace bg

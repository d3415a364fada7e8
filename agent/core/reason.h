// The reason codes of SPEC.md ("Checks and reason codes"): the machine-readable part of every
// rejection, as written to REJECTED.json and the audit log. The spelling is the contract.
#pragma once

#include <optional>
#include <string_view>

namespace bg {

enum class Reason {
  kNone = 0,  // not a verdict: an operational error, or a pass
  // manifest
  kManifestInvalid,
  // integrity
  kFileMissing,
  kSizeMismatch,
  kHashMismatch,
  kUnlistedFile,
  kUnsafePath,
  kLimitExceeded,
  // intake
  kIncomplete,
  kDuplicateVersion,
  // git
  kCommitUnknown,
  kCommitNotReleased,
  kDirtyTree,
  kFileDiffersAtCommit,
  kCommitUnsigned,
  kCommitSignerUntrusted,
  // lockfile
  kLockfileInvalid,
  kUnpinnedDependency,
  kMissingHash,
  kTorchIncompatible,
  kDeniedDependency,
  // preprocessing
  kPreprocessingUnsupported,
  kPreprocessingSpecMismatch,
  // signature
  kSignatureMissing,
  kSignatureInvalid,
  kSignerUntrusted,
  // parity plugins
  kUnsafeModel,
  kModelLoadFailed,
  kTrainingMode,
  kArchitectureMismatch,
  kParityMismatch,
  kNonFiniteOutput,
  kNondeterministic,
  kBatchInconsistent,
  kEdgeCaseFailed,
  kLatencyBudget,
  kPluginError,
  kPluginTimeout,
  kPluginCrashed,  // keep last: tests iterate up to it
};

// The SPEC.md spelling ("manifest-invalid"); "" for kNone.
std::string_view ReasonCode(Reason reason);
// The inverse of ReasonCode; nullopt for a code SPEC.md does not define.
std::optional<Reason> ParseReason(std::string_view code);

}  // namespace bg

// LockfilePolicy and EvaluateLockfile: what the lockfile check demands of a parsed lockfile,
// and every way a lockfile falls short of it.
//
// Findings come in SPEC.md's order of the lockfile reasons, then in lockfile order within each:
//   unpinned-dependency  (require_pinned) an entry not at one exact version from an index
//   missing-hash         (require_hashes) an entry with no artifact hash
//   torch-incompatible   (torch_compat) a torch entry outside the serving LibTorch's range, or
//                        with no comparable version; or the runtime's version unknown
//   denied-dependency    (deny) an entry a deny rule matches; an unpinned entry of a denied
//                        package whose version cannot be compared is reported too (fail closed)
// so the first finding decides the check's reason. Each finding's `detail` is one sentence that
// names the package and the versions involved.
//
// Thread safety: value types and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/reason.h"
#include "agent/core/status.h"
#include "agent/lockfile/lockfile.h"
#include "agent/lockfile/pep440_specifier.h"
#include "agent/lockfile/torch_compat.h"

namespace bg {

// One `deny` entry: "torch<2.6", "numpy==1.26.0", "pickle5" (every version).
struct DenyRule {
  std::string text;  // as configured
  std::string key;   // PEP 503 normalized package name
  Pep440SpecifierSet specifiers;

  // A name with optional specifiers; no extras, URL or marker.
  static Result<DenyRule> Parse(std::string_view text);
};

struct LockfilePolicy {
  bool require_pinned = true;
  bool require_hashes = false;
  TorchCompat torch_compat = TorchCompat::kSameMinor;
  std::vector<DenyRule> deny;
};

// The serving runtime's LibTorch: the text as given (empty when unknown) and, when it is a
// PEP 440 version, its parsed form.
struct TorchRuntime {
  std::string text;
  std::optional<Pep440Version> version;

  static TorchRuntime From(std::string text);
};

struct LockfileFinding {
  Reason reason = Reason::kNone;
  std::string package;  // as written in the lockfile; empty for a finding about the runtime
  std::string version;  // as written; empty when none
  int line = 0;
  std::string detail;
  bool could_not_check = false;  // the check lacked what it needed (an unknown runtime)

  Json ToJson() const;
};

std::vector<LockfileFinding> EvaluateLockfile(const Lockfile& lock, const LockfilePolicy& policy,
                                              const TorchRuntime& runtime);

// The torch entries of `lock` (normalized name "torch").
std::vector<const LockedPackage*> TorchEntries(const Lockfile& lock);

}  // namespace bg

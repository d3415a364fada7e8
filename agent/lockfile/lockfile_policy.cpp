#include "agent/lockfile/lockfile_policy.h"

#include "agent/lockfile/package_name.h"
#include "agent/lockfile/requirement.h"

namespace bg {
namespace {

// "numpy 1.26.4" or "numpy".
std::string Label(const LockedPackage& p) {
  return p.version.empty() ? p.name : p.name + " " + p.version;
}

// " (line 7)", " (develop, line 7)", or "".
std::string Where(const LockedPackage& p) {
  std::string parts;
  if (p.group == "develop") parts = "develop";
  if (p.line > 0) parts += (parts.empty() ? "" : ", ") + ("line " + std::to_string(p.line));
  return parts.empty() ? "" : " (" + parts + ")";
}

LockfileFinding FindingFor(Reason reason, const LockedPackage& p, std::string detail) {
  LockfileFinding f;
  f.reason = reason;
  f.package = p.name;
  f.version = p.version;
  f.line = p.line;
  f.detail = std::move(detail);
  return f;
}

void Unpinned(const Lockfile& lock, std::vector<LockfileFinding>& out) {
  for (const auto& p : lock.packages) {
    if (p.pinned) continue;
    out.push_back(
        FindingFor(Reason::kUnpinnedDependency, p,
                   p.name + " is not pinned to one version: " + p.unpinned_why + Where(p)));
  }
}

void MissingHash(const Lockfile& lock, std::vector<LockfileFinding>& out) {
  for (const auto& p : lock.packages) {
    if (p.hashes > 0) continue;
    out.push_back(FindingFor(Reason::kMissingHash, p, Label(p) + " has no hash" + Where(p)));
  }
}

// "2.5" for same-minor, "2" for same-major: what the mode compares.
std::string Compared(const Pep440Version& v, TorchCompat mode) {
  if (mode == TorchCompat::kSameMajor) return std::to_string(v.ReleaseAt(0));
  if (mode == TorchCompat::kSameMinor) {
    return std::to_string(v.ReleaseAt(0)) + "." + std::to_string(v.ReleaseAt(1));
  }
  return v.Public().ToString();
}

LockfileFinding RuntimeUnknown(const TorchRuntime& runtime, TorchCompat mode) {
  LockfileFinding f;
  f.reason = Reason::kTorchIncompatible;
  f.could_not_check = true;
  f.detail =
      "cannot check torch_compat = " + std::string(TorchCompatName(mode)) + ": " +
      (runtime.text.empty() ? std::string("the serving runtime's LibTorch version is unknown (set "
                                          "[runtime] torch_version in the agent's config)")
                            : "the serving runtime's LibTorch version \"" + runtime.text +
                                  "\" is not a PEP 440 version");
  return f;
}

void Torch(const Lockfile& lock, TorchCompat mode, const TorchRuntime& runtime,
           std::vector<LockfileFinding>& out) {
  if (mode == TorchCompat::kAny) return;
  if (!runtime.version) {
    out.push_back(RuntimeUnknown(runtime, mode));
    return;
  }
  const std::string rule = "torch_compat = " + std::string(TorchCompatName(mode));
  for (const LockedPackage* p : TorchEntries(lock)) {
    if (!p->parsed) {
      out.push_back(FindingFor(Reason::kTorchIncompatible, *p,
                               p->name + Where(*p) +
                                   " has no version to compare with the serving "
                                   "LibTorch " +
                                   runtime.text + " (" + rule + "): " + p->unpinned_why));
    } else if (!TorchCompatible(*p->parsed, *runtime.version, mode)) {
      out.push_back(FindingFor(Reason::kTorchIncompatible, *p,
                               Label(*p) + Where(*p) + " does not match the serving LibTorch " +
                                   runtime.text + " (" + rule + ": " + Compared(*p->parsed, mode) +
                                   " vs " + Compared(*runtime.version, mode) + ")"));
    }
  }
}

void Denied(const Lockfile& lock, const std::vector<DenyRule>& rules,
            std::vector<LockfileFinding>& out) {
  for (const auto& p : lock.packages) {
    for (const auto& rule : rules) {
      if (rule.key != p.key) continue;
      if (rule.specifiers.empty() || (p.parsed && rule.specifiers.Contains(*p.parsed))) {
        out.push_back(FindingFor(Reason::kDeniedDependency, p,
                                 Label(p) + Where(p) + " is denied by rule \"" + rule.text + "\""));
        break;
      }
      if (!p.parsed) {
        out.push_back(FindingFor(Reason::kDeniedDependency, p,
                                 p.name + Where(p) + " may match deny rule \"" + rule.text +
                                     "\": its version cannot be compared (" + p.unpinned_why +
                                     ")"));
        break;
      }
    }
  }
}

}  // namespace

Result<DenyRule> DenyRule::Parse(std::string_view text) {
  BG_ASSIGN_OR_RETURN(Requirement req, ParseRequirement(text));
  if (!req.url.empty() || !req.marker.empty() || !req.extras.empty()) {
    return Status::Error("\"" + std::string(text) +
                         "\": a deny rule is a name and version specifiers only (\"torch<2.6\")");
  }
  DenyRule rule;
  rule.text = std::string(text);
  rule.key = NormalizePackageName(req.name);
  rule.specifiers = std::move(req.specifiers);
  return rule;
}

TorchRuntime TorchRuntime::From(std::string text) {
  TorchRuntime r;
  r.version = Pep440Version::Parse(text);
  r.text = std::move(text);
  return r;
}

Json LockfileFinding::ToJson() const {
  Json j = {{"reason", ReasonCode(reason)}};
  if (!package.empty()) j["package"] = package;
  if (!version.empty()) j["version"] = version;
  if (line > 0) j["line"] = line;
  j["detail"] = detail;
  return j;
}

std::vector<const LockedPackage*> TorchEntries(const Lockfile& lock) {
  std::vector<const LockedPackage*> out;
  for (const auto& p : lock.packages) {
    if (p.key == "torch") out.push_back(&p);
  }
  return out;
}

std::vector<LockfileFinding> EvaluateLockfile(const Lockfile& lock, const LockfilePolicy& policy,
                                              const TorchRuntime& runtime) {
  std::vector<LockfileFinding> out;
  if (policy.require_pinned) Unpinned(lock, out);
  if (policy.require_hashes) MissingHash(lock, out);
  Torch(lock, policy.torch_compat, runtime, out);
  Denied(lock, policy.deny, out);
  return out;
}

}  // namespace bg

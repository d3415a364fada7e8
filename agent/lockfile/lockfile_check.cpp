#include "agent/lockfile/lockfile_check.h"

#include <algorithm>

namespace bg {
namespace {

constexpr const char* kKind = "lockfile";

std::size_t CountIf(const Lockfile& lock, bool (*pred)(const LockedPackage&)) {
  return static_cast<std::size_t>(std::count_if(lock.packages.begin(), lock.packages.end(), pred));
}

std::string TorchVersions(const Lockfile& lock) {
  std::string out;
  for (const LockedPackage* p : TorchEntries(lock)) {
    out += (out.empty() ? "" : ", ") + (p->version.empty() ? "(no version)" : p->version);
  }
  return out;
}

CheckResult FromFindings(const std::vector<LockfileFinding>& findings) {
  std::string summary = findings.front().detail;
  if (findings.size() > 1) {
    summary += " (and " + std::to_string(findings.size() - 1) + " more finding" +
               (findings.size() > 2 ? "s" : "") + ")";
  }
  const bool only_unchecked = std::all_of(
      findings.begin(), findings.end(), [](const LockfileFinding& f) { return f.could_not_check; });
  return only_unchecked ? CheckResult::Error(kKind, findings.front().reason, summary)
                        : CheckResult::Fail(kKind, findings.front().reason, summary);
}

}  // namespace

LockfileCheck::LockfileCheck(LockfilePolicy policy, TorchRuntime runtime, std::uint64_t max_bytes)
    : policy_(std::move(policy)), runtime_(std::move(runtime)), max_bytes_(max_bytes) {}

LockfileCheck::LockfileCheck(LockfilePolicy policy, std::function<std::string()> runtime,
                             std::uint64_t max_bytes)
    : policy_(std::move(policy)), resolve_(std::move(runtime)), max_bytes_(max_bytes) {}

const TorchRuntime& LockfileCheck::Runtime() const {
  if (resolve_) std::call_once(resolved_, [this] { runtime_ = TorchRuntime::From(resolve_()); });
  return runtime_;
}

CheckResult LockfileCheck::Run(const BundleContext& ctx) {
  if (ctx.manifest == nullptr || ctx.dir == nullptr) {
    return CheckResult::Error(kKind, Reason::kLockfileInvalid,
                              "no valid manifest names the lockfile");
  }
  const std::string& path = ctx.manifest->dependencies.lockfile;
  auto text = ctx.dir->ReadFile(path, max_bytes_);
  if (text.ok()) return Evaluate(*text, path);
  CheckResult r =
      text.status().reason() == Reason::kLimitExceeded
          ? CheckResult::Fail(
                kKind, Reason::kLockfileInvalid,
                path + " is larger than max_bytes (" + std::to_string(max_bytes_) + " bytes)")
          : CheckResult::Error(kKind, Reason::kLockfileInvalid,
                               "cannot read the lockfile " + path + ": " + text.status().message());
  r.details = {{"lockfile", path}};
  return r;
}

CheckResult LockfileCheck::Evaluate(std::string_view text, const std::string& path) const {
  auto lock = ParseLockfile(text, path);
  if (!lock.ok()) {
    CheckResult r = CheckResult::Fail(kKind, Reason::kLockfileInvalid, lock.status().message());
    const LockfileFormat format =
        LockfileFormatFromName(path).value_or(LockfileFormatFromContent(text));
    r.details = {{"lockfile", path}, {"format", LockfileFormatName(format)}};
    return r;
  }
  const auto findings = EvaluateLockfile(*lock, policy_, Runtime());
  CheckResult r =
      findings.empty() ? CheckResult::Pass(kKind, PassSummary(*lock)) : FromFindings(findings);
  r.details = Details(*lock, path);
  if (!findings.empty()) {
    Json list = Json::array();
    for (const auto& f : findings) list.push_back(f.ToJson());
    r.details["findings"] = std::move(list);
  }
  return r;
}

Json LockfileCheck::Details(const Lockfile& lock, const std::string& path) const {
  Json d = {{"lockfile", path},
            {"format", LockfileFormatName(lock.format)},
            {"packages", lock.packages.size()},
            {"pinned", CountIf(lock, [](const LockedPackage& p) { return p.pinned; })},
            {"hashed", CountIf(lock, [](const LockedPackage& p) { return p.hashes > 0; })}};
  if (!lock.projects.empty()) d["projects"] = lock.projects;
  Json torch = Json::array();
  for (const LockedPackage* p : TorchEntries(lock)) torch.push_back(p->version);
  d["torch"] = std::move(torch);
  d["runtime_torch"] = Runtime().text.empty() ? Json(nullptr) : Json(Runtime().text);
  d["torch_compat"] = TorchCompatName(policy_.torch_compat);
  return d;
}

std::string LockfileCheck::PassSummary(const Lockfile& lock) const {
  const std::size_t n = lock.packages.size();
  const std::size_t pinned = CountIf(lock, [](const LockedPackage& p) { return p.pinned; });
  const std::size_t hashed = CountIf(lock, [](const LockedPackage& p) { return p.hashes > 0; });
  std::string s = std::string(LockfileFormatName(lock.format)) + " " + lock.source + ": " +
                  std::to_string(n) + " package" + (n == 1 ? "" : "s");
  s += pinned == n ? ", all pinned" : ", " + std::to_string(n - pinned) + " not pinned (allowed)";
  if (hashed == n && n > 0) s += " and hashed";
  if (policy_.torch_compat == TorchCompat::kAny) return s + "; torch_compat = any";
  const std::string torch = TorchVersions(lock);
  if (torch.empty()) return s + "; no torch in the lockfile, torch_compat not applicable";
  return s + "; torch " + torch + " matches LibTorch " + Runtime().text + " (" +
         std::string(TorchCompatName(policy_.torch_compat)) + ")";
}

std::unique_ptr<Check> MakeLockfileCheck(TableReader& options, const CheckBuildContext& ctx) {
  const std::size_t errors_before = options.errors()->messages().size();
  LockfilePolicy policy;
  policy.require_pinned = options.Bool("require_pinned", Presence::kOptional).value_or(true);
  policy.require_hashes = options.Bool("require_hashes", Presence::kOptional).value_or(false);
  if (auto mode = options.String("torch_compat", Presence::kOptional)) {
    if (auto parsed = ParseTorchCompat(*mode)) {
      policy.torch_compat = *parsed;
    } else {
      options.Fail("torch_compat",
                   "must be \"same-minor\", \"same-major\", \"exact\" or \"any\", "
                   "found \"" +
                       *mode + "\"");
    }
  }
  const auto deny =
      options.StringArray("deny", Presence::kOptional).value_or(std::vector<std::string>{});
  for (std::size_t i = 0; i < deny.size(); ++i) {
    auto rule = DenyRule::Parse(deny[i]);
    if (rule.ok()) {
      policy.deny.push_back(std::move(rule).value());
    } else {
      options.Fail("deny", "item " + std::to_string(i) + ": " + rule.status().message());
    }
  }
  const auto max_bytes = options.Int("max_bytes", Presence::kOptional, 1)
                             .value_or(static_cast<std::int64_t>(kDefaultMaxLockfileBytes));
  if (options.errors()->messages().size() != errors_before) return nullptr;
  return std::make_unique<LockfileCheck>(std::move(policy), ctx.torch_version,
                                         static_cast<std::uint64_t>(max_bytes));
}

}  // namespace bg

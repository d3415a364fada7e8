#include "agent/preprocessing/preprocessing_check.h"

#include <algorithm>
#include <cctype>

#include "agent/core/hex.h"

namespace bg {
namespace {

constexpr const char* kKind = "preprocessing";

std::string Short(const std::string& sha) { return sha.substr(0, 12); }

// "sha256:ABC..." or "abc...": the lower-case hex, or "" when it is not 64 hex digits.
std::string NormalizeSha256(std::string text) {
  if (text.rfind("sha256:", 0) == 0) text.erase(0, 7);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return IsLowerHex(text, 64) ? text : "";
}

struct Finding {
  Reason reason;
  std::string detail;
};

}  // namespace

PreprocessingCheck::PreprocessingCheck(std::set<std::string> supported,
                                       std::map<std::string, std::string> known)
    : supported_(std::move(supported)), known_(std::move(known)) {
  if (supported_.empty()) {
    for (const auto& [version, sha] : known_) supported_.insert(version);
  }
}

std::string PreprocessingCheck::SupportedList() const {
  std::string out;
  for (const auto& v : supported_) out += (out.empty() ? "" : ", ") + v;
  return out;
}

CheckResult PreprocessingCheck::Run(const BundleContext& ctx) {
  if (ctx.manifest == nullptr) {
    return CheckResult::Error(kKind, Reason::kPreprocessingUnsupported,
                              "no valid manifest names the preprocessing version");
  }
  const auto& pre = ctx.manifest->preprocessing;
  const WalkedFile* file = ctx.walk != nullptr ? ctx.walk->FindFile(pre.spec) : nullptr;
  return Evaluate(pre.version, pre.spec, file != nullptr ? file->sha256 : "");
}

CheckResult PreprocessingCheck::Evaluate(const std::string& version, const std::string& spec,
                                         const std::string& spec_sha256) const {
  std::vector<Finding> findings;
  if (supported_.count(version) == 0) {
    findings.push_back(
        {Reason::kPreprocessingUnsupported,
         "preprocessing version \"" + version +
             "\" is not supported by this serving stack (supported: " + SupportedList() + ")"});
  }
  const auto known = known_.find(version);
  const bool pinned = known != known_.end();
  bool unchecked = false;
  if (pinned && spec_sha256.empty()) {
    unchecked = findings.empty();
    findings.push_back({Reason::kPreprocessingSpecMismatch,
                        "cannot verify preprocessing version \"" + version + "\": its spec " +
                            spec + " was not found and hashed in the bundle"});
  } else if (pinned && spec_sha256 != known->second) {
    findings.push_back(
        {Reason::kPreprocessingSpecMismatch, "preprocessing version \"" + version + "\": spec " +
                                                 spec + " has sha256 " + spec_sha256 + ", but \"" +
                                                 version + "\" is known as " + known->second});
  }

  CheckResult r;
  if (findings.empty()) {
    r = CheckResult::Pass(kKind, "preprocessing \"" + version + "\" is supported; spec " + spec +
                                     (pinned ? " matches its known sha256 " + Short(known->second)
                                      : spec_sha256.empty() ? std::string(" is not pinned in known")
                                                            : " (sha256 " + Short(spec_sha256) +
                                                                  ") is not pinned in known"));
  } else {
    std::string summary = findings.front().detail;
    if (findings.size() > 1) summary += " (and 1 more finding)";
    r = unchecked ? CheckResult::Error(kKind, findings.front().reason, summary)
                  : CheckResult::Fail(kKind, findings.front().reason, summary);
  }
  r.details = {{"version", version},
               {"spec", spec},
               {"spec_sha256", spec_sha256},
               {"supported", std::vector<std::string>(supported_.begin(), supported_.end())},
               {"spec_pinned", pinned}};
  if (pinned) r.details["known_sha256"] = known->second;
  if (!findings.empty()) {
    Json list = Json::array();
    for (const auto& f : findings)
      list.push_back({{"reason", ReasonCode(f.reason)}, {"detail", f.detail}});
    r.details["findings"] = std::move(list);
  }
  return r;
}

std::unique_ptr<Check> MakePreprocessingCheck(TableReader& options, const CheckBuildContext& ctx) {
  (void)ctx;
  const std::size_t errors_before = options.errors()->messages().size();
  const auto supported = options.StringArray("supported", Presence::kOptional);
  if (supported && supported->empty()) options.Fail("supported", "must list at least one version");
  if (supported && std::count(supported->begin(), supported->end(), "") != 0) {
    options.Fail("supported", "a version may not be empty");
  }
  std::map<std::string, std::string> known;
  auto known_table = options.Table("known", Presence::kOptional);
  if (known_table) {
    for (const std::string& version : known_table->Keys()) {
      const auto sha = known_table->String(version, Presence::kRequired);
      if (!sha) continue;
      known[version] = NormalizeSha256(*sha);
      if (known[version].empty()) {
        known_table->Fail(version, "must be the sha256 of the spec file (64 hex digits)");
      }
    }
  }
  if (!supported && known_table && known.empty()) {
    options.Fail("known", "must name at least one version (or set supported)");
  }
  if (!supported && !known_table) {
    options.Fail("", "set supported (a list of versions) or known (version -> sha256), or both");
  }
  if (options.errors()->messages().size() != errors_before) return nullptr;
  std::set<std::string> versions;
  if (supported) versions.insert(supported->begin(), supported->end());
  return std::make_unique<PreprocessingCheck>(std::move(versions), std::move(known));
}

}  // namespace bg

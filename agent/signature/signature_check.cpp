#include "agent/signature/signature_check.h"

#include <ctime>

#include "agent/bundle/integrity.h"
#include "agent/core/sha256.h"
#include "agent/signature/model_signing_verifier.h"
#include "agent/signature/signature_check_options.h"
#include "agent/signature/sigstore_bundle.h"
#include "agent/signature/ssh_file_signature.h"
#include "agent/signature/sshsig.h"

namespace bg {
namespace {

constexpr const char* kCheck = "signature";
constexpr std::uint64_t kMaxSignedManifestBytes = 64u << 20;

struct FileVerdict {
  std::string file;
  SignatureVerdict verdict;
};

class SignatureCheck final : public Check {
 public:
  explicit SignatureCheck(SignatureCheckOptions options) : options_(std::move(options)) {}

  std::string_view kind() const override { return kCheck; }
  bool gates_pipeline() const override { return true; }

  CheckResult Run(const BundleContext& ctx) override {
    if (ctx.dir == nullptr || ctx.manifest == nullptr || ctx.walk == nullptr) {
      return CheckResult::Skip(kCheck, "needs a valid manifest and a walked bundle");
    }
    std::vector<FileVerdict> verdicts;
    Json not_verified = Json::array();
    const bool has_model_sig = ctx.walk->FindFile(kModelSignatureFileName) != nullptr;
    const bool has_ssh_sig = ctx.walk->FindFile(kManifestSignatureFileName) != nullptr;
    if (has_model_sig && !options_.model_signing) not_verified.push_back(kModelSignatureFileName);
    if (has_ssh_sig && !options_.ssh) not_verified.push_back(kManifestSignatureFileName);

    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    if (has_model_sig && options_.model_signing) {
      auto v = VerifyModelSig(ctx, now);
      if (!v.ok()) return CouldNotRun(v.status());
      verdicts.push_back({kModelSignatureFileName, std::move(v).value()});
    }
    if (has_ssh_sig && options_.ssh) {
      auto v = VerifySshSig(ctx, now);
      if (!v.ok()) return CouldNotRun(v.status());
      verdicts.push_back({kManifestSignatureFileName, std::move(v).value()});
    }
    CheckResult r = Decide(verdicts);
    if (!not_verified.empty()) r.details["not_verified"] = not_verified;
    if (options_.allowed_signers && !options_.allowed_signers->warnings().empty()) {
      r.details["allowed_signers_warnings"] = options_.allowed_signers->warnings();
    }
    return r;
  }

 private:
  // The bytes of bundle.toml, checked to be those the manifest was parsed from.
  Result<std::string> SignedManifest(const BundleContext& ctx) const {
    BG_ASSIGN_OR_RETURN(std::string text, ctx.dir->ReadFile(kManifestFileName, kMaxSignedManifestBytes));
    if (Sha256Hex(text) != ctx.manifest_sha256) {
      return Status::Error("bundle.toml changed while the bundle was being checked");
    }
    return text;
  }

  Result<SignatureVerdict> VerifyModelSig(const BundleContext& ctx, std::int64_t now) const {
    const WalkedFile* manifest = ctx.walk->FindFile(kManifestFileName);
    if (manifest == nullptr || manifest->sha256 != ctx.manifest_sha256) {
      return Status::Error("bundle.toml changed while the bundle was being checked");
    }
    auto text = ctx.dir->ReadFile(kModelSignatureFileName, kMaxSigstoreBundleBytes);
    if (!text.ok()) {
      if (text.status().reason() != Reason::kLimitExceeded) return text.status();
      SignatureVerdict v;
      v.signer = {{"format", "model_signing"}, {"verified", false}};
      v.status = Status::Reject(Reason::kSignatureInvalid, "model.sig: " + text.status().message());
      return v;
    }
    ModelSigningTrust trust{options_.trusted_keys.get(), options_.anchors.get(),
                            options_.certificate_time};
    ResourcePolicy policy;
    policy.ignore_paths = options_.ignore_paths;
    SignatureVerdict v = VerifyModelSignature(*text, trust, ctx.walk->files, policy, now);
    BindFiles(ctx, v);
    return v;
  }

  Result<SignatureVerdict> VerifySshSig(const BundleContext& ctx, std::int64_t now) const {
    BG_ASSIGN_OR_RETURN(std::string manifest, SignedManifest(ctx));
    auto armored = ctx.dir->ReadFile(kManifestSignatureFileName, kMaxArmoredSignatureBytes);
    SignatureVerdict v;
    if (!armored.ok()) {
      if (armored.status().reason() != Reason::kLimitExceeded) return armored.status();
      v.signer = {{"format", "ssh"}, {"verified", false}};
      v.status = Status::Reject(Reason::kSignatureInvalid,
                                "bundle.toml.sig: " + armored.status().message());
      return v;
    }
    SshTrust trust{options_.allowed_signers.get(), options_.sig_namespace, options_.principals};
    v = VerifySshFileSignature(*armored, manifest, trust, now);
    BindFiles(ctx, v);
    return v;
  }

  // bundle.toml is signed (by either format); the files must be exactly what it lists, so that
  // no byte a later check reads escapes the signature.
  static void BindFiles(const BundleContext& ctx, SignatureVerdict& v) {
    if (!v.ok()) return;
    const auto findings = CompareWithManifest(*ctx.manifest, *ctx.walk);
    if (findings.empty()) return;
    const auto& f = findings.front();
    std::string summary = (f.path.empty() ? "" : f.path + ": ") + std::string(ReasonCode(f.reason)) +
                          " (" + f.detail + ")";
    if (findings.size() > 1) summary += " (and " + std::to_string(findings.size() - 1) + " more)";
    v.signer["verified"] = false;
    v.status = Status::Reject(Reason::kSignatureInvalid,
                              "bundle.toml is signed, but the files are not what it lists: " + summary);
  }

  CheckResult Decide(std::vector<FileVerdict>& verdicts) const {
    if (verdicts.empty()) {
      if (options_.required) {
        CheckResult r = CheckResult::Fail(kCheck, Reason::kSignatureMissing,
                                          "the bundle is not signed: no " + Expected() + " (required = true)");
        r.details["expected"] = ExpectedList();
        return r;
      }
      CheckResult r = CheckResult::Pass(kCheck, "not signed, allowed (required = false)");
      r.details["signed"] = false;
      return r;
    }
    Json list = Json::array();
    const FileVerdict* failed = nullptr;
    for (const auto& fv : verdicts) {
      Json j = {{"file", fv.file}, {"status", fv.verdict.ok() ? "verified" : "rejected"}};
      if (!fv.verdict.ok()) {
        j["reason"] = ReasonCode(fv.verdict.status.reason());
        j["message"] = fv.verdict.status.message();
        if (failed == nullptr) failed = &fv;
      }
      j["signer"] = fv.verdict.signer;
      if (!fv.verdict.details.empty()) j["details"] = fv.verdict.details;
      list.push_back(std::move(j));
    }
    CheckResult r;
    if (failed != nullptr) {
      r = CheckResult::Fail(kCheck, failed->verdict.status.reason(), failed->verdict.status.message());
      r.details["signer"] = failed->verdict.signer;
    } else {
      std::string summary;
      for (const auto& fv : verdicts) {
        summary += (summary.empty() ? "" : "; ") + fv.file + " signed by " +
                   fv.verdict.signer.value("identity", std::string("?"));
      }
      r = CheckResult::Pass(kCheck, summary);
      r.details["signer"] = verdicts.front().verdict.signer;
    }
    r.details["signatures"] = std::move(list);
    return r;
  }

  CheckResult CouldNotRun(const Status& status) const {
    CheckResult r = CheckResult::Error(kCheck, Reason::kSignatureInvalid,
                                       "could not run: " + status.message());
    r.details["error"] = status.message();
    return r;
  }

  std::string Expected() const {
    std::string s;
    for (const auto& e : ExpectedList()) s += (s.empty() ? "" : " or ") + e.get<std::string>();
    return s;
  }
  Json ExpectedList() const {
    Json j = Json::array();
    if (options_.model_signing) j.push_back(kModelSignatureFileName);
    if (options_.ssh) j.push_back(kManifestSignatureFileName);
    return j;
  }

  const SignatureCheckOptions options_;
};

}  // namespace

std::unique_ptr<Check> MakeSignatureCheck(TableReader& options, const CheckBuildContext& ctx) {
  auto parsed = ReadSignatureCheckOptions(options, ctx);
  if (!parsed) return nullptr;
  return std::make_unique<SignatureCheck>(std::move(*parsed));
}

}  // namespace bg

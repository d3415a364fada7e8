#include "agent/checks/builtin_checks.h"


#include "agent/bundle/integrity.h"
#include "agent/core/file_contents.h"
#include "agent/core/sha256.h"

namespace bg {

ManifestCheckOutput ReadAndParseManifest(const BundleDir& dir, const LimitsConfig& limits) {
  ManifestCheckOutput out;
  auto text = dir.ReadFile(kManifestFileName, limits.max_manifest_bytes);
  if (!text.ok()) {
    const Status& st = text.status();
    if (!st.IsVerdict()) {  // EIO, EACCES, EMFILE: the agent's failure, not the manifest's
      out.result = CheckResult::Held("manifest", st);
      return out;
    }
    Reason reason = st.reason();
    if (reason == Reason::kNone || reason == Reason::kFileMissing) reason = Reason::kManifestInvalid;
    const std::string why = st.reason() == Reason::kFileMissing
                                ? std::string("bundle.toml not found in the bundle")
                                : st.message();
    out.result = CheckResult::Fail("manifest", reason, why);
    return out;
  }
  out.sha256 = Sha256Hex(*text);
  auto manifest = ParseManifest(*text, kManifestFileName);
  if (!manifest.ok()) {
    out.result = CheckResult::Fail("manifest", Reason::kManifestInvalid, manifest.status().message());
    return out;
  }
  out.result = CheckResult::Pass("manifest", manifest->name + " " + manifest->version + ", " +
                                                 std::to_string(manifest->files.size()) + " files");
  out.result.details = {{"name", manifest->name},
                        {"version", manifest->version},
                        {"commit", manifest->source.commit},
                        {"model_format", manifest->model.format}};
  out.manifest = std::move(manifest).value();
  return out;
}

CheckResult IntegrityCheckResult(const Manifest* manifest, const WalkReport& walk) {
  const auto findings = manifest ? CompareWithManifest(*manifest, walk) : WalkFindings(walk);
  CheckResult r;
  if (findings.empty()) {
    r = manifest ? CheckResult::Pass("integrity", std::to_string(manifest->files.size()) +
                                                      " files, " + std::to_string(walk.total_bytes) +
                                                      " bytes, sizes and sha256 as declared")
                 : CheckResult::Skip("integrity", "nothing to compare against: the manifest is invalid");
  } else {
    const auto& first = findings.front();
    std::string summary = first.path.empty() ? first.detail : first.path + ": " + first.detail;
    if (findings.size() > 1) summary += " (and " + std::to_string(findings.size() - 1) + " more)";
    r = CheckResult::Fail("integrity", first.reason, summary);
    Json list = Json::array();
    for (const auto& f : findings) {
      Json item = {{"reason", ReasonCode(f.reason)}, {"detail", f.detail}};
      if (!f.path.empty()) item["path"] = f.path;
      list.push_back(std::move(item));
    }
    r.details["findings"] = std::move(list);
  }
  r.details["walk"] = walk.ToJson();
  if (walk.seconds > 0) {
    r.metrics["bytes"] = walk.total_bytes;
    r.metrics["hash_mib_per_s"] = static_cast<double>(walk.total_bytes) / (1 << 20) / walk.seconds;
  }
  return r;
}

CheckResult DuplicateVersionCheckResult(const Manifest& manifest, const std::string& digest,
                                        const std::string& manifest_sha256,
                                        const std::string& serving_dir) {
  const std::string served = serving_dir + "/" + manifest.name + "/" + manifest.version;
  const auto text = ReadFileContents(served + "/" + kManifestFileName);
  if (!text) {
    return CheckResult::Pass("intake", manifest.name + " " + manifest.version + " is a new version");
  }
  auto served_manifest = ParseManifest(*text, served + "/" + kManifestFileName);
  const std::string served_digest = served_manifest.ok() ? BundleDigest(served_manifest->files) : "";
  const std::string served_manifest_sha = Sha256Hex(*text);
  if (served_digest == digest && served_manifest_sha == manifest_sha256) {
    CheckResult r = CheckResult::Pass(
        "intake", manifest.name + " " + manifest.version + " is already served, identical");
    r.details = {{"already_served", true}, {"path", served}};
    return r;
  }
  CheckResult r = CheckResult::Fail(
      "intake", Reason::kDuplicateVersion,
      manifest.name + " " + manifest.version + " is already served with different " +
          (served_digest == digest ? "bundle.toml" : "content") + " (served digest " +
          served_digest + ", this one " + digest + ")");
  r.details = {{"served_path", served}, {"served_digest", served_digest}, {"digest", digest}};
  return r;
}

}  // namespace bg

#include "agent/signature/signature_check_options.h"

#include <filesystem>

#include "agent/manifest/manifest.h"
#include "agent/signature/model_signing_manifest.h"

namespace bg {
namespace {

namespace fs = std::filesystem;

std::optional<std::vector<std::string>> Paths(TableReader& options, std::string_view key,
                                              const CheckBuildContext& ctx) {
  auto list = options.StringArray(key, Presence::kOptional);
  if (!list) return std::nullopt;
  for (auto& p : *list) p = ResolveConfigPath(p, ctx);
  return list;
}

void ReadFormats(TableReader& options, SignatureCheckOptions& out) {
  auto formats = options.StringArray("formats", Presence::kOptional);
  if (!formats) return;
  out.model_signing = out.ssh = false;
  if (formats->empty()) options.Fail("formats", "is empty: name \"model_signing\", \"ssh\" or both");
  for (const auto& f : *formats) {
    if (f == "model_signing") {
      out.model_signing = true;
    } else if (f == "ssh") {
      out.ssh = true;
    } else {
      options.Fail("formats", "unknown format \"" + f + "\" (known: \"model_signing\", \"ssh\")");
    }
  }
}

void ReadModelSigning(TableReader& options, const CheckBuildContext& ctx,
                      SignatureCheckOptions& out) {
  bool load_failed = false;
  if (auto keys = Paths(options, "trusted_keys", ctx)) {
    auto loaded = TrustedKeys::LoadPemFiles(*keys);
    if (!loaded.ok()) {
      load_failed = true;
      options.Fail("trusted_keys", loaded.status().message());
    } else if (!keys->empty()) {
      out.trusted_keys = std::make_shared<const TrustedKeys>(std::move(loaded).value());
    }
  }
  if (auto anchors = Paths(options, "certificate_anchors", ctx)) {
    auto loaded = TrustAnchors::LoadPemFiles(*anchors);
    if (!loaded.ok()) {
      load_failed = true;
      options.Fail("certificate_anchors", loaded.status().message());
    } else if (!anchors->empty()) {
      out.anchors = std::make_shared<const TrustAnchors>(std::move(loaded).value());
    }
  }
  if (auto when = options.String("certificate_validity", Presence::kOptional)) {
    if (*when == "issuance") {
      out.certificate_time = CertificateTime::kIssuance;
    } else if (*when == "now") {
      out.certificate_time = CertificateTime::kNow;
    } else {
      options.Fail("certificate_validity", "must be \"issuance\" or \"now\"");
    }
  }
  if (auto ignore = options.StringArray("ignore_paths", Presence::kOptional)) {
    for (auto p : *ignore) {
      while (p.size() > 1 && p.back() == '/') p.pop_back();
      if (!IsSafeRelativePath(p)) {
        options.Fail("ignore_paths", "\"" + p + "\" is not a safe relative path inside the bundle");
      } else if (PathIsUnder(kManifestFileName, p)) {
        options.Fail("ignore_paths", "\"" + p + "\" would leave bundle.toml unsigned; it must be signed");
      } else {
        out.ignore_paths.push_back(p);
      }
    }
  }
  const bool has_material = out.trusted_keys || out.anchors;
  if (out.model_signing && !has_material && !load_failed) {
    options.Fail("formats", "\"model_signing\" needs trusted_keys or certificate_anchors (or drop "
                            "it from formats)");
  }
  if (!out.model_signing) {
    for (const char* key : {"trusted_keys", "certificate_anchors", "certificate_validity", "ignore_paths"}) {
      if (options.Has(key)) options.Fail(key, "has no effect: formats does not include \"model_signing\"");
    }
  }
}

void ReadSsh(TableReader& options, const CheckBuildContext& ctx, SignatureCheckOptions& out) {
  if (auto file = options.String("allowed_signers", Presence::kOptional)) {
    auto loaded = AllowedSigners::Load(ResolveConfigPath(*file, ctx));
    if (!loaded.ok()) {
      options.Fail("allowed_signers", loaded.status().message());
    } else {
      out.allowed_signers = std::make_shared<const AllowedSigners>(std::move(loaded).value());
    }
  }
  if (auto ns = options.String("namespace", Presence::kOptional)) {
    if (ns->empty()) options.Fail("namespace", "must not be empty");
    out.sig_namespace = *ns;
  }
  if (auto principals = options.StringArray("principals", Presence::kOptional)) {
    for (const auto& p : *principals) {
      if (p.empty()) options.Fail("principals", "holds an empty principal");
    }
    out.principals = *principals;
  }
  if (out.ssh && !out.allowed_signers && !options.Has("allowed_signers")) {
    options.Fail("formats", "\"ssh\" needs allowed_signers (or drop it from formats)");
  }
  if (!out.ssh) {
    for (const char* key : {"allowed_signers", "namespace", "principals"}) {
      if (options.Has(key)) options.Fail(key, "has no effect: formats does not include \"ssh\"");
    }
  }
}

}  // namespace

std::string ResolveConfigPath(const std::string& path, const CheckBuildContext& ctx) {
  fs::path p(path);
  if (p.is_relative()) {
    std::error_code ec;
    const bool from_file = ctx.config != nullptr && ctx.config->source != "<defaults>";
    const fs::path base =
        from_file ? fs::absolute(ctx.config->source, ec).parent_path() : fs::current_path(ec);
    p = base / p;
  }
  return p.lexically_normal().string();
}

std::optional<SignatureCheckOptions> ReadSignatureCheckOptions(TableReader& options,
                                                               const CheckBuildContext& ctx) {
  const std::size_t errors_before = options.errors()->messages().size();
  SignatureCheckOptions out;
  ReadFormats(options, out);
  if (auto required = options.Bool("required", Presence::kOptional)) out.required = *required;
  ReadModelSigning(options, ctx, out);
  ReadSsh(options, ctx, out);
  if (options.errors()->messages().size() != errors_before) return std::nullopt;
  return out;
}

}  // namespace bg

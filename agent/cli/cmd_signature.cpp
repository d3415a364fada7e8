// `bundlegate signature verify|sign`: the two sides of a bundle signature, outside the agent.
//
//   verify PATH [--signature FILE] (--public-key PEM | --certificate-chain PEM |
//               --allowed-signers FILE --identity P) [--namespace NS] [--ignore-paths P ...]
//   sign PATH (--private-key PEM [--signing-certificate PEM --certificate-chain PEM ...] |
//             --ssh-key FILE [--namespace NS]) [--signature FILE] [--ignore-paths P ...]
//
// verify accepts what `model_signing verify key` and `verify certificate` accept (a model
// directory or a single file; the signer's recorded ignore_paths and git's files are not
// expected, unless --no-ignore-git-paths), and SSH signatures as `ssh-keygen -Y verify` checks
// them. A directory holding bundle.toml is a bundle and is verified by the gate's rules (what
// the signature check decides): model.sig must sign every file but the signatures and
// --ignore-paths, bundle.toml among them; a good bundle.toml.sig also needs the files to be
// what bundle.toml lists. Exit 0 verified, 1 not, 2 usage.
//
// sign writes model.sig (model_signing's key or certificate method) over every file of PATH but
// the signature itself and --ignore-paths, or bundle.toml.sig (an SSHSIG over bundle.toml, or
// over PATH when it is a file, as `ssh-keygen -Y sign -n NS` writes it).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/bundle/integrity.h"
#include "agent/cli/command.h"
#include "agent/core/env.h"
#include "agent/core/file_contents.h"
#include "agent/core/json.h"
#include "agent/core/sha256.h"
#include "agent/manifest/manifest.h"
#include "agent/signature/model_signing_signer.h"
#include "agent/signature/model_signing_verifier.h"
#include "agent/signature/openssh_private_key.h"
#include "agent/signature/sigstore_bundle.h"
#include "agent/signature/ssh_file_signature.h"
#include "agent/signature/sshsig.h"

namespace bg::cli {
namespace {

namespace fs = std::filesystem;

struct Args {
  std::string path, signature;
  std::vector<std::string> public_keys, chain, ignore_paths;
  std::string allowed_signers, identity, sig_namespace = "bundlegate";
  std::string certificate_validity = "issuance";
  bool no_ignore_git_paths = false, json = false;
  // sign
  std::string private_key, signing_certificate, ssh_key;
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "bundlegate signature: %s\n", message.c_str());
  return kExitUsage;
}

std::optional<std::string> ReadSmall(const std::string& path, std::size_t max) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) > max) {
    return std::nullopt;
  }
  return ReadFileContents(path);
}

// The model's files, hashed: every regular file of a directory, or the file itself as ".".
Result<std::vector<WalkedFile>> HashModel(const std::string& path, bool is_dir) {
  if (!is_dir) {
    auto text = ReadFileContents(path);
    if (!text) return Status::Error(path + ": cannot be read");
    return std::vector<WalkedFile>{{".", text->size(), Sha256Hex(*text)}};
  }
  BG_ASSIGN_OR_RETURN(BundleDir dir, BundleDir::Open(path));
  HashingVisitor hasher;
  LimitsConfig limits;
  limits.max_files = 1000000;
  limits.max_depth = 64;
  BG_ASSIGN_OR_RETURN(WalkReport walk, WalkBundle(dir, limits, hasher));
  if (!walk.unsafe.empty()) {
    return Status::Reject(Reason::kUnsafePath, walk.unsafe.front().path + " is a " + walk.unsafe.front().why +
                                                   "; only regular files and directories can be signed");
  }
  if (walk.limit_exceeded) return Status::Error(*walk.limit_exceeded);
  return walk.files;
}

// `p` (relative to the current directory, or absolute) as a path inside `root`; nullopt outside.
std::optional<std::string> InsideModel(const std::string& root, const std::string& p) {
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(fs::absolute(root, ec), ec);
  const fs::path full = fs::weakly_canonical(fs::absolute(p, ec), ec);
  const fs::path rel = full.lexically_relative(base);
  if (rel.empty() || *rel.begin() == ".." || rel == ".") return std::nullopt;
  return rel.generic_string();
}

std::vector<std::string> ResolveIgnorePaths(const Args& a) {
  std::vector<std::string> out;
  for (const auto& p : a.ignore_paths) {
    if (auto rel = InsideModel(a.path, p)) out.push_back(*rel);
  }
  return out;
}

int Report(const Args& a, const SignatureVerdict& v, const std::string& file) {
  if (a.json) {
    Json j = {{"verified", v.ok()}, {"signature", file}};
    if (!v.ok()) {
      j["reason"] = ReasonCode(v.status.reason());
      j["message"] = v.status.message();
    }
    j["signer"] = v.signer;
    if (!v.details.empty()) j["details"] = v.details;
    std::cout << DumpJson(j, 2) << "\n";
  } else if (v.ok()) {
    std::printf("Verification succeeded: %s signed by %s\n", file.c_str(),
                v.signer.value("identity", std::string("?")).c_str());
  } else {
    const std::string reason(ReasonCode(v.status.reason()));
    std::fprintf(stderr, "Verification failed: %s%s%s\n", reason.c_str(), reason.empty() ? "" : ": ",
                 v.status.message().c_str());
  }
  return v.ok() ? kExitOk : kExitFailed;
}

int VerifyModelSigning(const Args& a, bool is_dir) {
  const std::string sig_path = !a.signature.empty() ? a.signature : a.path + "/model.sig";
  if (!is_dir && a.signature.empty()) return Usage("--signature is required for a single file");
  TrustedKeys keys;
  std::optional<TrustAnchors> anchors;
  if (!a.public_keys.empty()) {
    auto loaded = TrustedKeys::LoadPemFiles(a.public_keys);
    if (!loaded.ok()) return Usage(loaded.status().message());
    keys = std::move(loaded).value();
  } else {
    auto loaded = TrustAnchors::LoadPemFiles(a.chain);
    if (!loaded.ok()) return Usage(loaded.status().message());
    anchors = std::move(loaded).value();
  }
  const auto text = ReadSmall(sig_path, kMaxSigstoreBundleBytes);
  SignatureVerdict v;
  if (!text) {
    v.status = Status::Reject(Reason::kSignatureMissing, sig_path + ": cannot be read (or too large)");
    return Report(a, v, sig_path);
  }
  auto files = HashModel(a.path, is_dir);
  if (!files.ok()) {
    v.status = files.status().reason() == Reason::kNone
                   ? files.status()
                   : Status::Reject(Reason::kSignatureInvalid, files.status().message());
    return Report(a, v, sig_path);
  }
  const bool bundle = is_dir && fs::exists(fs::path(a.path) / kManifestFileName);
  ResourcePolicy policy;
  policy.ignore_paths = ResolveIgnorePaths(a);
  policy.signature_path = is_dir ? InsideModel(a.path, sig_path).value_or("") : "";
  policy.honour_signed_ignore_paths = !bundle;
  policy.ignore_git_paths = !bundle && !a.no_ignore_git_paths;
  ModelSigningTrust trust{&keys, anchors ? &*anchors : nullptr,
                          a.certificate_validity == "now" ? CertificateTime::kNow
                                                          : CertificateTime::kIssuance};
  v = VerifyModelSignature(*text, trust, *files, policy, static_cast<std::int64_t>(std::time(nullptr)));
  if (bundle) v.details["rules"] = "bundle";
  return Report(a, v, sig_path);
}

int VerifySsh(const Args& a, bool is_dir) {
  if (a.identity.empty()) return Usage("--allowed-signers needs --identity (the principal, as ssh-keygen -I)");
  auto signers = AllowedSigners::Load(a.allowed_signers);
  if (!signers.ok()) return Usage(signers.status().message());
  const std::string message_path = is_dir ? a.path + "/" + kManifestFileName : a.path;
  const std::string sig_path = !a.signature.empty() ? a.signature : message_path + ".sig";
  SignatureVerdict v;
  const auto armored = ReadSmall(sig_path, kMaxArmoredSignatureBytes);
  const auto message = ReadFileContents(message_path);
  if (!armored || !message) {
    v.status = Status::Reject(Reason::kSignatureMissing,
                              (!armored ? sig_path : message_path) + ": cannot be read (or too large)");
    return Report(a, v, sig_path);
  }
  SshTrust trust{&*signers, a.sig_namespace, {a.identity}};
  v = VerifySshFileSignature(*armored, *message, trust, static_cast<std::int64_t>(std::time(nullptr)));
  if (v.ok() && is_dir) {
    // bundle.toml is signed; are the files what it lists?
    auto manifest = ParseManifest(*message, message_path);
    auto dir = BundleDir::Open(a.path);
    HashingVisitor hasher;
    auto walk = dir.ok() ? WalkBundle(*dir, LimitsConfig{}, hasher) : Result<WalkReport>(dir.status());
    if (!manifest.ok() || !walk.ok()) {
      v.status = Status::Reject(Reason::kSignatureInvalid,
                                (!manifest.ok() ? manifest.status() : walk.status()).message());
    } else if (const auto findings = CompareWithManifest(*manifest, *walk); !findings.empty()) {
      v.status = Status::Reject(Reason::kSignatureInvalid,
                                "bundle.toml is signed, but the files are not what it lists: " +
                                    findings.front().path + ": " + findings.front().detail);
    }
    if (!v.ok()) v.signer["verified"] = false;
  }
  return Report(a, v, sig_path);
}

int RunVerify(const Args& a) {
  const int methods = static_cast<int>(!a.public_keys.empty()) + static_cast<int>(!a.chain.empty()) +
                      static_cast<int>(!a.allowed_signers.empty());
  if (methods != 1) {
    return Usage("give exactly one of --public-key, --certificate-chain, --allowed-signers");
  }
  if (a.certificate_validity != "issuance" && a.certificate_validity != "now") {
    return Usage("--certificate-validity must be \"issuance\" or \"now\"");
  }
  std::error_code ec;
  const auto status = fs::status(a.path, ec);
  if (ec || (!fs::is_directory(status) && !fs::is_regular_file(status))) {
    return Usage(a.path + " is neither a directory nor a file");
  }
  const bool is_dir = fs::is_directory(status);
  return a.allowed_signers.empty() ? VerifyModelSigning(a, is_dir) : VerifySsh(a, is_dir);
}

int WriteSignature(const std::string& path, const std::string& text) {
  const Status st = Env::Default().WriteFileAtomic(path, text, 0644);
  if (!st.ok()) {
    std::fprintf(stderr, "bundlegate signature sign: %s\n", st.message().c_str());
    return kExitFailed;
  }
  std::printf("%s\n", path.c_str());
  return kExitOk;
}

int SignModelSigning(const Args& a, bool is_dir) {
  if (!is_dir && a.signature.empty()) return Usage("--signature is required for a single file");
  const std::string sig_path = !a.signature.empty() ? a.signature : a.path + "/model.sig";
  const auto pem = ReadSmall(a.private_key, 1 << 20);
  if (!pem) return Usage(a.private_key + ": cannot be read");
  auto key = PrivateKey::FromPem(*pem);
  if (!key.ok()) return Usage(a.private_key + ": " + key.status().message());
  ModelSigningRequest request;
  request.key = &*key;
  if (!a.signing_certificate.empty()) {
    std::string chain_pem;
    for (const auto& path : std::vector<std::string>{a.signing_certificate}) {
      const auto text = ReadSmall(path, 4u << 20);
      if (!text) return Usage(path + ": cannot be read");
      chain_pem += *text + "\n";
    }
    for (const auto& path : a.chain) {
      const auto text = ReadSmall(path, 4u << 20);
      if (!text) return Usage(path + ": cannot be read");
      chain_pem += *text + "\n";
    }
    auto certs = CertificatesFromPem(chain_pem, a.signing_certificate);
    if (!certs.ok()) return Usage(certs.status().message());
    request.certificates = std::move(certs).value();
  } else if (!a.chain.empty()) {
    return Usage("--certificate-chain needs --signing-certificate");
  }
  auto files = HashModel(a.path, is_dir);
  if (!files.ok()) return Usage(files.status().message());
  const std::string sig_rel = is_dir ? InsideModel(a.path, sig_path).value_or("") : "";
  const std::vector<std::string> ignored = ResolveIgnorePaths(a);
  for (const auto& f : *files) {
    bool skip = f.path == sig_rel;
    for (const auto& p : ignored) skip = skip || PathIsUnder(f.path, p);
    if (!skip) request.files.push_back(f);
  }
  if (!sig_rel.empty()) request.ignore_paths.push_back(sig_rel);
  request.ignore_paths.insert(request.ignore_paths.end(), ignored.begin(), ignored.end());
  std::error_code ec;
  request.subject_name = fs::weakly_canonical(fs::absolute(a.path, ec), ec).filename().string();
  auto text = SignModel(request);
  if (!text.ok()) return Usage(text.status().message());
  return WriteSignature(sig_path, *text);
}

int SignSsh(const Args& a, bool is_dir) {
  const auto text = ReadSmall(a.ssh_key, 1 << 20);
  if (!text) return Usage(a.ssh_key + ": cannot be read");
  auto key = OpenSshPrivateKey::Parse(*text);
  if (!key.ok()) return Usage(a.ssh_key + ": " + key.status().message());
  const std::string message_path = is_dir ? a.path + "/" + kManifestFileName : a.path;
  const auto message = ReadFileContents(message_path);
  if (!message) return Usage(message_path + ": cannot be read");
  auto armored = key->SignArmored(*message, a.sig_namespace);
  if (!armored.ok()) return Usage(armored.status().message());
  return WriteSignature(!a.signature.empty() ? a.signature : message_path + ".sig", *armored);
}

int RunSign(const Args& a) {
  if (a.private_key.empty() == a.ssh_key.empty()) return Usage("give exactly one of --private-key, --ssh-key");
  std::error_code ec;
  const auto status = fs::status(a.path, ec);
  if (ec || (!fs::is_directory(status) && !fs::is_regular_file(status))) {
    return Usage(a.path + " is neither a directory nor a file");
  }
  const bool is_dir = fs::is_directory(status);
  return a.ssh_key.empty() ? SignModelSigning(a, is_dir) : SignSsh(a, is_dir);
}

}  // namespace

Command SignatureCommand() {
  return {"signature", "Verify or make a bundle signature (OpenSSF model signing, SSH)",
          [](CLI::App& sub) {
            auto args = std::make_shared<Args>();
            auto* verify = sub.add_subcommand(
                "verify", "Verify model.sig or an SSH signature; exit 0 verified, 1 not, 2 usage");
            verify->add_option("PATH", args->path, "The bundle (or model directory, or file)")->required();
            verify->add_option("--signature", args->signature,
                               "The signature (default PATH/model.sig, or PATH/bundle.toml.sig)");
            verify->add_option("--public-key", args->public_keys, "Trusted PEM public key (model_signing key)");
            verify->add_option("--certificate-chain", args->chain,
                               "Trusted PEM CA certificates (model_signing certificate)");
            verify->add_option("--certificate-validity", args->certificate_validity,
                               "issuance (model_signing's rule, default) or now");
            verify->add_option("--allowed-signers", args->allowed_signers, "OpenSSH allowed_signers (SSH)");
            verify->add_option("--identity", args->identity, "The principal the SSH signer must be");
            verify->add_option("--namespace", args->sig_namespace, "SSH signature namespace (default bundlegate)");
            verify->add_option("--ignore-paths", args->ignore_paths, "Files that need not be signed");
            verify->add_flag("--no-ignore-git-paths", args->no_ignore_git_paths,
                             "Expect git's files (.git/, .gitattributes, ...) to be signed too");
            verify->add_flag("--json", args->json, "Print the verdict as JSON");
            auto* sign = sub.add_subcommand("sign", "Write model.sig (key or certificate) or an SSH signature");
            sign->add_option("PATH", args->path, "The bundle (or model directory, or file)")->required();
            sign->add_option("--private-key", args->private_key, "PEM ECDSA private key (model_signing)");
            sign->add_option("--signing-certificate", args->signing_certificate,
                             "PEM certificate of that key (model_signing certificate method)");
            sign->add_option("--certificate-chain", args->chain, "PEM intermediates to include");
            sign->add_option("--ssh-key", args->ssh_key, "OpenSSH private key, unencrypted (SSH)");
            sign->add_option("--namespace", args->sig_namespace, "SSH signature namespace (default bundlegate)");
            sign->add_option("--signature", args->signature,
                             "Where to write it (default PATH/model.sig, or PATH/bundle.toml.sig)");
            sign->add_option("--ignore-paths", args->ignore_paths, "Files to leave out of model.sig");
            sub.require_subcommand(1);
            return [args, verify] { return verify->parsed() ? RunVerify(*args) : RunSign(*args); };
          }};
}

}  // namespace bg::cli

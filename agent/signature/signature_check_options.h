// The signature check's options, as written in the first [[checks]] table:
//
//   [[checks]]
//   kind = "signature"
//   formats = ["model_signing", "ssh"]   # which signature files are verified (default: both)
//   required = true                      # unsigned bundles are rejected (signature-missing)
//   # model.sig, OpenSSF model signing (model_signing's key and certificate methods):
//   trusted_keys = ["keys/release.pub.pem"]        # PEM public keys, ECDSA P-256/384/521
//   certificate_anchors = ["pki/root-ca.pem"]      # PEM CA certificates: trust anchors
//   certificate_validity = "issuance"              # or "now" (x509_chain.h)
//   ignore_paths = []                    # bundle files that model.sig need not sign
//   # bundle.toml.sig, an SSH signature (ssh-keygen -Y sign -n bundlegate):
//   allowed_signers = "allowed_signers"  # OpenSSH's format (allowed_signers.h)
//   namespace = "bundlegate"
//   principals = []                      # only these identities (as ssh-keygen -I); [] = any
//
// Relative paths are relative to the config file. Keys, anchors and allowed_signers are read
// and validated here, once per config load (a reload, SIGHUP, reads them again): a missing or
// malformed file is a config error naming it, never a rejected bundle. A format in `formats`
// needs its trust material (model_signing: trusted_keys or certificate_anchors; ssh:
// allowed_signers), and trust material for a format that is not listed is an error too (it
// would silently do nothing). ignore_paths must be safe relative paths and may not cover
// bundle.toml, which must always be signed.
//
// Thread safety: plain data (shared, immutable trust material).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/checks/check_registry.h"
#include "agent/signature/allowed_signers.h"
#include "agent/signature/trusted_keys.h"
#include "agent/signature/x509_chain.h"
#include "agent/toml/table_reader.h"

namespace bg {

struct SignatureCheckOptions {
  bool model_signing = true;
  bool ssh = true;
  bool required = true;
  std::shared_ptr<const TrustedKeys> trusted_keys;     // null: none
  std::shared_ptr<const TrustAnchors> anchors;         // null: none
  CertificateTime certificate_time = CertificateTime::kIssuance;
  std::vector<std::string> ignore_paths;
  std::shared_ptr<const AllowedSigners> allowed_signers;  // null: none
  std::string sig_namespace = "bundlegate";
  std::vector<std::string> principals;
};

// nullopt when anything was reported through `options.Fail`.
std::optional<SignatureCheckOptions> ReadSignatureCheckOptions(TableReader& options,
                                                               const CheckBuildContext& ctx);

// A path from the config, made absolute against the config file's directory.
std::string ResolveConfigPath(const std::string& path, const CheckBuildContext& ctx);

}  // namespace bg

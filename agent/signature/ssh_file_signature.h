// VerifySshFileSignature: a detached SSHSIG over one file (bundle.toml.sig over bundle.toml), as
// `ssh-keygen -Y verify -f allowed_signers -I <principal> -n <namespace> -s sig < file` decides
// it at time `now`:
//   signature-invalid  the armor or blob is malformed, it was made for another namespace, or it
//                      does not verify over the file's bytes with its own key;
//   signer-untrusted   its key is not in allowed_signers for one of `principals` (any principal
//                      when empty), or that line's namespaces= or validity window excludes it.
//
// Thread safety: uses only its arguments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "agent/signature/allowed_signers.h"
#include "agent/signature/signature_verdict.h"

namespace bg {

struct SshTrust {
  const AllowedSigners* signers = nullptr;
  std::string sig_namespace = "bundlegate";
  std::vector<std::string> principals;  // identities, as -I; empty: any principal of the file
};

SignatureVerdict VerifySshFileSignature(std::string_view armored, std::string_view message,
                                        const SshTrust& trust, std::int64_t now);

}  // namespace bg

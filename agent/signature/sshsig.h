// SSHSIG: OpenSSH's signature format (PROTOCOL.sshsig), as `ssh-keygen -Y sign` writes it and
// git stores it in a commit's gpgsig header.
//
//   armored:  "-----BEGIN SSH SIGNATURE-----" EOL, base64 lines, "-----END SSH SIGNATURE-----"
//   blob:     "SSHSIG" uint32(1) string(public key) string(namespace) string(reserved)
//             string(hash algorithm) string(SSH signature)
//   signed:   "SSHSIG" string(namespace) string(reserved) string(hash algorithm) string(H(message))
//
// Parsing is strict and bounded: the armored text is at most kMaxArmoredSignatureBytes; it must
// start with the header; only base64 and line breaks (LF or CRLF) may come between header and
// footer, and at most one line break after the footer; the blob must be version 1 with nothing
// after its last field; the namespace must not be empty; the hash must be sha256 or sha512.
// (ssh-keygen tolerates anything after the footer and whitespace inside the base64; we do not.)
//
// Thread safety: pure functions and immutable values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/signature/crypto.h"
#include "agent/signature/ssh_key.h"

namespace bg {

inline constexpr std::size_t kMaxArmoredSignatureBytes = 64 * 1024;
inline constexpr std::string_view kSshSignatureBegin = "-----BEGIN SSH SIGNATURE-----";
inline constexpr std::string_view kSshSignatureEnd = "-----END SSH SIGNATURE-----";

struct SshSignature {
  SshPublicKey key;
  std::string sig_namespace;
  std::string reserved;
  HashAlgorithm hash = HashAlgorithm::kSha512;
  std::string signature;  // the SSH signature blob (algorithm, bytes)
};

// The blob inside an armored signature. Failures are signature-invalid rejections.
Result<std::string> DearmorSshSignature(std::string_view armored);
Result<SshSignature> ParseSshSignatureBlob(std::string_view blob);
// Both steps.
Result<SshSignature> ParseArmoredSshSignature(std::string_view armored);

// What the key signs for `message` (section 3 of PROTOCOL.sshsig).
std::string SshSignedData(std::string_view sig_namespace, HashAlgorithm hash,
                          std::string_view message);

// Checks that `sig` was made over `message` in `expected_namespace` by its own embedded key.
// Whether that key is trusted is a separate question (allowed_signers.h).
Status VerifySshSignature(const SshSignature& sig, std::string_view message,
                          std::string_view expected_namespace);

// The producer side (`bundlegate signature sign --ssh-key`): the blob and its armor.
std::string SshSignatureBlob(const SshPublicKey& key, std::string_view sig_namespace,
                             HashAlgorithm hash, std::string_view signature);
std::string ArmorSshSignature(std::string_view blob);

}  // namespace bg

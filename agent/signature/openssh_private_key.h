// OpenSshPrivateKey: an unencrypted private key in OpenSSH's own format ("-----BEGIN OPENSSH
// PRIVATE KEY-----", PROTOCOL.key), as ssh-keygen writes it, for `bundlegate signature sign
// --ssh-key`: it makes the same SSHSIG that `ssh-keygen -Y sign` makes.
//
// Ed25519 and ECDSA (P-256/384/521) keys only; an encrypted key is refused with a message
// saying to use ssh-keygen (which can ask for the passphrase, or use an agent). The parse is
// bounded and checks the format's own consistency (the two check integers, the public key
// repeated in the private section, the padding).
//
// Thread safety: immutable after Parse.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/signature/crypto.h"
#include "agent/signature/ssh_key.h"

namespace bg {

class OpenSshPrivateKey {
 public:
  static Result<OpenSshPrivateKey> Parse(std::string_view text);

  const SshPublicKey& public_key() const { return public_; }
  // The armored SSHSIG of `message` in `sig_namespace`, hashed with SHA-512 as ssh-keygen does.
  Result<std::string> SignArmored(std::string_view message, std::string_view sig_namespace) const;

 private:
  OpenSshPrivateKey(SshPublicKey pub, PrivateKey key) : public_(std::move(pub)), key_(std::move(key)) {}
  SshPublicKey public_;
  PrivateKey key_;
};

}  // namespace bg

// SshPublicKey: an OpenSSH public key, from its wire blob (RFC 4253, RFC 5656, RFC 8709) or its
// "type base64" text (authorized_keys, allowed_signers, id_*.pub), with its fingerprint and the
// verification of SSH signatures made by it.
//
// Supported: ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa keys (RSA signatures must be
// rsa-sha2-256 or rsa-sha2-512, never SHA-1 "ssh-rsa"; at least 2048 bits). Refused with a
// reason that says so: OpenSSH certificates (*-cert-v01@openssh.com) and security-key types
// (sk-*@openssh.com), DSA.
//
// A blob is parsed strictly: the key type string and, for ECDSA, the curve name must agree;
// nothing may follow the key's fields; mpints are minimal. So two keys are equal exactly when
// their blobs are, which is how allowed_signers lines are matched.
//
// Thread safety: immutable values.
#pragma once

#include <string>
#include <string_view>

#include "agent/core/status.h"
#include "agent/signature/crypto.h"

namespace bg {

class SshPublicKey {
 public:
  // Failures are signature-invalid rejections naming what is wrong.
  static Result<SshPublicKey> FromBlob(std::string_view blob);
  // `type` and `base64` as the two fields of a key line ("ssh-ed25519", "AAAAC3Nz...").
  static Result<SshPublicKey> FromText(std::string_view type, std::string_view base64);

  const std::string& type() const { return type_; }  // "ssh-ed25519", "ecdsa-sha2-nistp256", ...
  const std::string& blob() const { return blob_; }
  const PublicKey& key() const { return key_; }
  // "SHA256:" + unpadded base64 of SHA-256(blob): what ssh-keygen -l prints.
  std::string Fingerprint() const;
  bool operator==(const SshPublicKey& other) const { return blob_ == other.blob_; }

  // Verifies an SSH signature blob (string algorithm, string signature) over `data`. A
  // signature-invalid rejection says why it did not verify.
  Status VerifySignature(std::string_view signature_blob, std::string_view data) const;

 private:
  SshPublicKey(std::string type, std::string blob, PublicKey key)
      : type_(std::move(type)), blob_(std::move(blob)), key_(std::move(key)) {}

  std::string type_;
  std::string blob_;
  PublicKey key_;
};

}  // namespace bg

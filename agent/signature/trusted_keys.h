// TrustedKeys: the public keys that model_signing's key method may sign with (the check's
// trusted_keys, or `signature verify --public-key`), each from a PEM file.
//
// A model.sig names its key by a hint, the hex SHA-256 of the key's SubjectPublicKeyInfo PEM as
// OpenSSL and Python's cryptography write it (ModelSigningKeyHint): model_signing 1.1 and later.
// 1.0.x carried the key itself (publicKey.rawBytes); ByKey finds that one.
//
// Thread safety: immutable after loading.
#pragma once

#include <string>
#include <vector>

#include "agent/core/status.h"
#include "agent/signature/crypto.h"

namespace bg {

struct TrustedKey {
  std::string source;       // the file it came from
  PublicKey key;
  std::string hint;         // ModelSigningKeyHint(key)
  std::string fingerprint;  // KeyFingerprint(key)
};

// Hex SHA-256 of the key's canonical PEM: model_signing's publicKey.hint.
std::string ModelSigningKeyHint(const PublicKey& key);
// "SHA256:" + unpadded base64 of SHA-256(SubjectPublicKeyInfo DER), in the style of SSH's.
std::string KeyFingerprint(const PublicKey& key);

class TrustedKeys {
 public:
  // One public key per file, ECDSA P-256/P-384/P-521 (what model_signing signs with).
  static Result<TrustedKeys> LoadPemFiles(const std::vector<std::string>& paths);
  static Result<TrustedKeys> FromPem(const std::string& pem, const std::string& source);

  const TrustedKey* ByHint(const std::string& hint) const;
  const TrustedKey* ByKey(const PublicKey& key) const;
  const std::vector<TrustedKey>& keys() const { return keys_; }
  bool empty() const { return keys_.empty(); }

 private:
  Status Add(const std::string& pem, const std::string& source);
  std::vector<TrustedKey> keys_;
};

}  // namespace bg

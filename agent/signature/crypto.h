// Crypto: public and private keys, digests and signatures, through OpenSSL's EVP interface.
//
// With x509_chain.cpp, this is the only file of agent/signature that includes OpenSSL: the
// formats (SSHSIG, DSSE, Sigstore bundles) are parsed by our own code, and only the arithmetic
// is OpenSSL's. Keys are immutable values sharing one EVP_PKEY.
//
// Key kinds: Ed25519, ECDSA on P-256, P-384 and P-521 (checked to be on the curve), and RSA
// (2048 bits or more; smaller keys are refused where they are built). Verification never
// throws and never leaves an error on OpenSSL's per-thread queue: a malformed signature is
// just one that does not verify.
//
// Thread safety: keys are immutable after construction; const methods may be called from
// several threads at once (OpenSSL 3 EVP_PKEY objects are safe for concurrent use).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "agent/core/status.h"

struct evp_pkey_st;

namespace bg {

enum class HashAlgorithm { kSha256, kSha384, kSha512 };
std::string_view HashAlgorithmName(HashAlgorithm hash);  // "sha256", "sha384", "sha512"
// The raw digest of `data`.
std::string Digest(HashAlgorithm hash, std::string_view data);

enum class KeyKind { kEd25519, kEcP256, kEcP384, kEcP521, kRsa, kUnsupported };
std::string_view KeyKindName(KeyKind kind);  // "Ed25519", "ECDSA P-256", ..., "RSA"
// ECDSA's hash by curve size, as model_signing and SSH use it: P-256 SHA-256, P-384 SHA-384,
// P-521 SHA-512. nullopt for other kinds.
std::optional<HashAlgorithm> EcdsaHashForCurve(KeyKind kind);

inline constexpr int kMinRsaBits = 2048;

class PublicKey {
 public:
  // The first "-----BEGIN PUBLIC KEY-----" block of `pem` (SubjectPublicKeyInfo); text around
  // it (as certtool writes) is ignored.
  static Result<PublicKey> FromPem(std::string_view pem);
  // A DER SubjectPublicKeyInfo, which must be all of `der`.
  static Result<PublicKey> FromSpkiDer(std::string_view der);
  static Result<PublicKey> FromEd25519(std::string_view raw32);
  // `point`: an uncompressed SEC1 point (0x04 || X || Y) on the curve of `curve`.
  static Result<PublicKey> FromEcPoint(KeyKind curve, std::string_view point);
  // `e` and `n`: unsigned big-endian integers.
  static Result<PublicKey> FromRsa(std::string_view e, std::string_view n);

  KeyKind kind() const { return kind_; }
  int bits() const;
  std::string SpkiDer() const;
  // "-----BEGIN PUBLIC KEY-----\n", base64 in 64-column lines, "-----END PUBLIC KEY-----\n":
  // what OpenSSL and Python's cryptography write, byte for byte.
  std::string SpkiPem() const;
  bool Equals(const PublicKey& other) const;

  // ECDSA (a DER ECDSA-Sig-Value) or RSA PKCS#1 v1.5 over `data` hashed with `hash`.
  bool VerifyHashed(HashAlgorithm hash, std::string_view data, std::string_view signature) const;
  // Ed25519 (PureEdDSA) over `data`.
  bool VerifyEd25519(std::string_view data, std::string_view signature) const;

 private:
  PublicKey(std::shared_ptr<evp_pkey_st> pkey, KeyKind kind) : pkey_(std::move(pkey)), kind_(kind) {}
  static Result<PublicKey> Adopt(evp_pkey_st* pkey, std::string_view what);
  friend class PrivateKey;

  std::shared_ptr<evp_pkey_st> pkey_;
  KeyKind kind_;
};

// An ECDSA-Sig-Value in DER from r and s as unsigned big-endian integers (SSH's mpints).
// nullopt when either is empty or too long to be a P-521 scalar.
std::optional<std::string> EcdsaSignatureDer(std::string_view r, std::string_view s);

// The inverse: r and s (unsigned big-endian, no leading zeros) of a DER ECDSA-Sig-Value.
std::optional<std::pair<std::string, std::string>> EcdsaSignatureRs(std::string_view der);

class PrivateKey {
 public:
  // An unencrypted PEM private key ("PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY").
  static Result<PrivateKey> FromPem(std::string_view pem);
  static Result<PrivateKey> FromEd25519Seed(std::string_view seed32);
  // `scalar`: the private scalar as an unsigned big-endian integer; `point` its public point
  // (uncompressed SEC1), as an OpenSSH private key file holds them.
  static Result<PrivateKey> FromEcKeypair(KeyKind curve, std::string_view scalar,
                                          std::string_view point);

  KeyKind kind() const { return kind_; }
  const PublicKey& public_key() const { return public_; }
  // ECDSA (DER) or RSA PKCS#1 v1.5 over `data` hashed with `hash`.
  Result<std::string> SignHashed(HashAlgorithm hash, std::string_view data) const;
  Result<std::string> SignEd25519(std::string_view data) const;

 private:
  PrivateKey(std::shared_ptr<evp_pkey_st> pkey, KeyKind kind, PublicKey pub)
      : pkey_(std::move(pkey)), kind_(kind), public_(std::move(pub)) {}
  static Result<PrivateKey> Adopt(evp_pkey_st* pkey, std::string_view what);

  std::shared_ptr<evp_pkey_st> pkey_;
  KeyKind kind_;
  PublicKey public_;
};

}  // namespace bg

#include "agent/signature/crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <cstring>

namespace bg {
namespace {

constexpr std::size_t kMaxPemBytes = 1 << 20;

// OpenSSL's most recent error as text; the per-thread queue is left empty.
std::string OpenSslError() {
  const unsigned long code = ERR_peek_last_error();
  std::string out = "unknown OpenSSL error";
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ParamBldFree {
  void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
};
struct ParamFree {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

const EVP_MD* Md(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256: return EVP_sha256();
    case HashAlgorithm::kSha384: return EVP_sha384();
    case HashAlgorithm::kSha512: return EVP_sha512();
  }
  return EVP_sha256();
}

const char* GroupName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256: return "prime256v1";
    case KeyKind::kEcP384: return "secp384r1";
    case KeyKind::kEcP521: return "secp521r1";
    default: return nullptr;
  }
}

std::size_t FieldBytes(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256: return 32;
    case KeyKind::kEcP384: return 48;
    case KeyKind::kEcP521: return 66;
    default: return 0;
  }
}

KeyKind KindOf(const EVP_PKEY* pkey) {
  switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_ED25519: return KeyKind::kEd25519;
    case EVP_PKEY_RSA: return KeyKind::kRsa;
    case EVP_PKEY_EC: {
      char name[64] = {0};
      std::size_t length = 0;
      if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name,
                                         &length) != 1) {
        ERR_clear_error();
        return KeyKind::kUnsupported;
      }
      const std::string group(name, length);
      if (group == "prime256v1" || group == "P-256") return KeyKind::kEcP256;
      if (group == "secp384r1" || group == "P-384") return KeyKind::kEcP384;
      if (group == "secp521r1" || group == "P-521") return KeyKind::kEcP521;
      return KeyKind::kUnsupported;
    }
    default: return KeyKind::kUnsupported;
  }
}

BioPtr MemBio(std::string_view data) {
  if (data.size() > kMaxPemBytes) return nullptr;
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

// Refuses to prompt for a passphrase: an encrypted key fails to load.
int NoPassphrase(char*, int, int, void*) { return -1; }

Status Unsupported(std::string_view what, const EVP_PKEY* pkey) {
  return Status::Reject(Reason::kSignatureInvalid,
                        std::string(what) + ": unsupported key type (id " +
                            std::to_string(EVP_PKEY_get_base_id(pkey)) +
                            "); Ed25519, ECDSA P-256/P-384/P-521 and RSA are supported");
}

Result<EVP_PKEY*> FromData(const char* type, int selection, OSSL_PARAM* params,
                           std::string_view what) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, selection, params) != 1) {
    return Status::Reject(Reason::kSignatureInvalid,
                          std::string(what) + ": not a valid key (" + OpenSslError() + ")");
  }
  return pkey;
}

// The key's public half is well formed (an EC point on its curve).
bool PublicCheck(EVP_PKEY* pkey) {
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
  const bool ok = ctx && EVP_PKEY_public_check(ctx.get()) == 1;
  if (!ok) ERR_clear_error();
  return ok;
}

Result<std::string> Sign(EVP_PKEY* pkey, const EVP_MD* md, std::string_view data) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, pkey) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Error("signing failed: " + OpenSslError());
  }
  std::string sig(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return Status::Error("signing failed: " + OpenSslError());
  }
  sig.resize(length);
  return sig;
}

bool Verify(EVP_PKEY* pkey, const EVP_MD* md, std::string_view data, std::string_view sig) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, pkey) == 1 &&
                  EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                                   sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
                                   data.size()) == 1;
  ERR_clear_error();
  return ok;
}

BnPtr Bignum(std::string_view bytes) {
  return BnPtr(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                         static_cast<int>(bytes.size()), nullptr));
}

}  // namespace

std::string_view HashAlgorithmName(HashAlgorithm hash) {
  switch (hash) {
    case HashAlgorithm::kSha256: return "sha256";
    case HashAlgorithm::kSha384: return "sha384";
    case HashAlgorithm::kSha512: return "sha512";
  }
  return "sha256";
}

std::string Digest(HashAlgorithm hash, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out, &length, Md(hash), nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string_view KeyKindName(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEd25519: return "Ed25519";
    case KeyKind::kEcP256: return "ECDSA P-256";
    case KeyKind::kEcP384: return "ECDSA P-384";
    case KeyKind::kEcP521: return "ECDSA P-521";
    case KeyKind::kRsa: return "RSA";
    case KeyKind::kUnsupported: return "unsupported";
  }
  return "unsupported";
}

std::optional<HashAlgorithm> EcdsaHashForCurve(KeyKind kind) {
  switch (kind) {
    case KeyKind::kEcP256: return HashAlgorithm::kSha256;
    case KeyKind::kEcP384: return HashAlgorithm::kSha384;
    case KeyKind::kEcP521: return HashAlgorithm::kSha512;
    default: return std::nullopt;
  }
}

// ------------------------------------------------------------------------------- PublicKey

Result<PublicKey> PublicKey::Adopt(EVP_PKEY* raw, std::string_view what) {
  std::shared_ptr<EVP_PKEY> pkey(raw, PkeyFree());
  const KeyKind kind = KindOf(raw);
  if (kind == KeyKind::kUnsupported) return Unsupported(what, raw);
  if (kind == KeyKind::kRsa && EVP_PKEY_get_bits(raw) < kMinRsaBits) {
    return Status::Reject(Reason::kSignatureInvalid,
                          std::string(what) + ": RSA key of " +
                              std::to_string(EVP_PKEY_get_bits(raw)) + " bits; at least " +
                              std::to_string(kMinRsaBits) + " are required");
  }
  return PublicKey(std::move(pkey), kind);
}

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr;
  if (pkey == nullptr) {
    return Status::Reject(Reason::kSignatureInvalid,
                          "no PEM \"PUBLIC KEY\" block could be read (" + OpenSslError() + ")");
  }
  return Adopt(pkey, "public key");
}

Result<PublicKey> PublicKey::FromSpkiDer(std::string_view der) {
  if (der.size() > kMaxPemBytes) {
    return Status::Reject(Reason::kSignatureInvalid, "public key: too large");
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  EVP_PKEY* pkey = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (pkey == nullptr || p != end) {
    EVP_PKEY_free(pkey);
    return Status::Reject(Reason::kSignatureInvalid,
                          "not a DER SubjectPublicKeyInfo (" + OpenSslError() + ")");
  }
  return Adopt(pkey, "public key");
}

Result<PublicKey> PublicKey::FromEd25519(std::string_view raw32) {
  if (raw32.size() != 32) {
    return Status::Reject(Reason::kSignatureInvalid, "an Ed25519 public key is 32 bytes, not " +
                                                         std::to_string(raw32.size()));
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw32.data()), 32);
  if (pkey == nullptr) {
    return Status::Reject(Reason::kSignatureInvalid, "Ed25519 key: " + OpenSslError());
  }
  return Adopt(pkey, "Ed25519 key");
}

Result<PublicKey> PublicKey::FromEcPoint(KeyKind curve, std::string_view point) {
  const char* group = GroupName(curve);
  if (group == nullptr) return Status::Reject(Reason::kSignatureInvalid, "not an ECDSA curve");
  if (point.size() != 1 + 2 * FieldBytes(curve) || point[0] != '\x04') {
    return Status::Reject(Reason::kSignatureInvalid,
                          std::string(KeyKindName(curve)) +
                              " key: the point is not an uncompressed point of the curve");
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<char*>(point.data()),
                                        point.size()),
      OSSL_PARAM_construct_end()};
  BG_ASSIGN_OR_RETURN(EVP_PKEY * pkey, FromData("EC", EVP_PKEY_PUBLIC_KEY, params, "ECDSA key"));
  if (!PublicCheck(pkey)) {
    EVP_PKEY_free(pkey);
    return Status::Reject(Reason::kSignatureInvalid,
                          std::string(KeyKindName(curve)) + " key: the point is not on the curve");
  }
  return Adopt(pkey, "ECDSA key");
}

Result<PublicKey> PublicKey::FromRsa(std::string_view e, std::string_view n) {
  if (e.empty() || n.empty() || e.size() > 64 || n.size() > 2048) {
    return Status::Reject(Reason::kSignatureInvalid, "RSA key: bad exponent or modulus size");
  }
  BnPtr bn_e = Bignum(e), bn_n = Bignum(n);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!bn_e || !bn_n || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Status::Error("RSA key: " + OpenSslError());
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return Status::Error("RSA key: " + OpenSslError());
  BG_ASSIGN_OR_RETURN(EVP_PKEY * pkey, FromData("RSA", EVP_PKEY_PUBLIC_KEY, params.get(), "RSA key"));
  return Adopt(pkey, "RSA key");
}

int PublicKey::bits() const { return EVP_PKEY_get_bits(pkey_.get()); }

std::string PublicKey::SpkiDer() const {
  unsigned char* buf = nullptr;
  const int length = i2d_PUBKEY(pkey_.get(), &buf);
  if (length <= 0) std::abort();  // an adopted key always encodes
  std::string out(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(length));
  OPENSSL_free(buf);
  return out;
}

std::string PublicKey::SpkiPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey_.get()) != 1) std::abort();
  return BioContents(bio.get());
}

bool PublicKey::Equals(const PublicKey& other) const {
  const bool equal = EVP_PKEY_eq(pkey_.get(), other.pkey_.get()) == 1;
  ERR_clear_error();
  return equal;
}

bool PublicKey::VerifyHashed(HashAlgorithm hash, std::string_view data,
                             std::string_view signature) const {
  if (kind_ == KeyKind::kEd25519 || kind_ == KeyKind::kUnsupported) return false;
  return Verify(pkey_.get(), Md(hash), data, signature);
}

bool PublicKey::VerifyEd25519(std::string_view data, std::string_view signature) const {
  if (kind_ != KeyKind::kEd25519 || signature.size() != 64) return false;
  return Verify(pkey_.get(), nullptr, data, signature);
}

std::optional<std::string> EcdsaSignatureDer(std::string_view r, std::string_view s) {
  if (r.empty() || s.empty() || r.size() > 66 || s.size() > 66) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* bn_r = BN_bin2bn(reinterpret_cast<const unsigned char*>(r.data()),
                           static_cast<int>(r.size()), nullptr);
  BIGNUM* bn_s = BN_bin2bn(reinterpret_cast<const unsigned char*>(s.data()),
                           static_cast<int>(s.size()), nullptr);
  if (sig == nullptr || bn_r == nullptr || bn_s == nullptr || ECDSA_SIG_set0(sig, bn_r, bn_s) != 1) {
    BN_free(bn_r);
    BN_free(bn_s);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return std::nullopt;
  }
  unsigned char* buf = nullptr;
  const int length = i2d_ECDSA_SIG(sig, &buf);
  ECDSA_SIG_free(sig);
  if (length <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(length));
  OPENSSL_free(buf);
  return out;
}

std::optional<std::pair<std::string, std::string>> EcdsaSignatureRs(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) {
    ERR_clear_error();
    return std::nullopt;
  }
  const auto bytes = [](const BIGNUM* bn) {
    std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    return out;
  };
  std::pair<std::string, std::string> out{bytes(ECDSA_SIG_get0_r(sig)), bytes(ECDSA_SIG_get0_s(sig))};
  ECDSA_SIG_free(sig);
  return out;
}

// ------------------------------------------------------------------------------ PrivateKey

Result<PrivateKey> PrivateKey::Adopt(EVP_PKEY* raw, std::string_view what) {
  std::shared_ptr<EVP_PKEY> pkey(raw, PkeyFree());
  unsigned char* buf = nullptr;
  const int length = i2d_PUBKEY(raw, &buf);
  if (length <= 0) return Status::Error(std::string(what) + ": " + OpenSslError());
  const std::string der(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(length));
  OPENSSL_free(buf);
  BG_ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromSpkiDer(der));
  const KeyKind kind = pub.kind();
  return PrivateKey(std::move(pkey), kind, std::move(pub));
}

Result<PrivateKey> PrivateKey::FromPem(std::string_view pem) {
  BioPtr bio = MemBio(pem);
  EVP_PKEY* pkey = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr) : nullptr;
  if (pkey == nullptr) {
    return Status::Error("no unencrypted PEM private key could be read (" + OpenSslError() + ")");
  }
  return Adopt(pkey, "private key");
}

Result<PrivateKey> PrivateKey::FromEd25519Seed(std::string_view seed32) {
  if (seed32.size() != 32) return Status::Error("an Ed25519 private key seed is 32 bytes");
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed32.data()), 32);
  if (pkey == nullptr) return Status::Error("Ed25519 private key: " + OpenSslError());
  return Adopt(pkey, "Ed25519 private key");
}

Result<PrivateKey> PrivateKey::FromEcKeypair(KeyKind curve, std::string_view scalar,
                                             std::string_view point) {
  const char* group = GroupName(curve);
  if (group == nullptr || scalar.empty() || scalar.size() > 67) {
    return Status::Error("not an ECDSA private key");
  }
  BnPtr priv = Bignum(scalar);
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldFree> bld(OSSL_PARAM_BLD_new());
  if (!priv || !bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv.get()) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Status::Error("ECDSA private key: " + OpenSslError());
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(bld.get()));
  if (!params) return Status::Error("ECDSA private key: " + OpenSslError());
  auto pkey = FromData("EC", EVP_PKEY_KEYPAIR, params.get(), "ECDSA private key");
  if (!pkey.ok()) return Status::Error(pkey.status().message());
  return Adopt(*pkey, "ECDSA private key");
}

Result<std::string> PrivateKey::SignHashed(HashAlgorithm hash, std::string_view data) const {
  if (kind_ == KeyKind::kEd25519) return Status::Error("an Ed25519 key signs the message itself");
  return Sign(pkey_.get(), Md(hash), data);
}

Result<std::string> PrivateKey::SignEd25519(std::string_view data) const {
  if (kind_ != KeyKind::kEd25519) return Status::Error("not an Ed25519 key");
  return Sign(pkey_.get(), nullptr, data);
}

}  // namespace bg

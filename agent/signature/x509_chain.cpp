#include "agent/signature/x509_chain.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>

#include "agent/core/hex.h"

namespace bg {
namespace {

constexpr std::size_t kMaxAnchorFileBytes = 4u << 20;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct StoreCtxFree {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_free(p); }
};
struct StackPopFree {
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BioPtr = std::unique_ptr<BIO, BioFree>;

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

std::string NameText(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "";
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : "";
}

std::optional<std::int64_t> Seconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string Rfc3339(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string TimeText(const ASN1_TIME* t) {
  const auto s = Seconds(t);
  return s ? Rfc3339(*s) : "";
}

std::vector<std::string> AltNames(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    ERR_clear_error();
    return out;
  }
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && out.size() < 16; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    const char* prefix = nullptr;
    const ASN1_IA5STRING* s = nullptr;
    if (n->type == GEN_EMAIL) {
      prefix = "email:";
      s = n->d.rfc822Name;
    } else if (n->type == GEN_URI) {
      prefix = "URI:";
      s = n->d.uniformResourceIdentifier;
    } else if (n->type == GEN_DNS) {
      prefix = "DNS:";
      s = n->d.dNSName;
    }
    if (prefix != nullptr && s != nullptr) {
      out.push_back(prefix + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                         static_cast<std::size_t>(ASN1_STRING_length(s))));
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

CertificateInfo Describe(X509* cert) {
  CertificateInfo info;
  info.subject = NameText(X509_get_subject_name(cert));
  info.issuer = NameText(X509_get_issuer_name(cert));
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      info.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  info.not_before = TimeText(X509_get0_notBefore(cert));
  info.not_after = TimeText(X509_get0_notAfter(cert));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) == 1) info.fingerprint = "SHA256:" + ToHex(md, n);
  info.subject_alt_names = AltNames(cert);
  ERR_clear_error();
  return info;
}

Result<X509Ptr> ParseDer(std::string_view der, std::size_t index) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != end) {
    return Status::Reject(Reason::kSignatureInvalid,
                          "model.sig: certificate " + std::to_string(index) +
                              " of the chain is not a DER X.509 certificate (" + OpenSslError() + ")");
  }
  return cert;
}

Result<PublicKey> KeyOf(X509* cert) {
  const EVP_PKEY* pkey = X509_get0_pubkey(cert);
  unsigned char* buf = nullptr;
  const int n = pkey != nullptr ? i2d_PUBKEY(const_cast<EVP_PKEY*>(pkey), &buf) : -1;
  if (n <= 0) {
    return Status::Reject(Reason::kSignatureInvalid, "the key cannot be read: " + OpenSslError());
  }
  const std::string spki(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return PublicKey::FromSpkiDer(spki);
}

Status Untrusted(const std::string& message) {
  return Status::Reject(Reason::kSignerUntrusted, message);
}

}  // namespace

struct TrustAnchors::Store {
  X509_STORE* store = nullptr;
  std::vector<X509Ptr> certs;
  ~Store() { X509_STORE_free(store); }
};

Json CertificateInfo::ToJson() const {
  Json j = {{"subject", subject}, {"issuer", issuer}, {"serial", serial},
            {"not_before", not_before}, {"not_after", not_after}, {"fingerprint", fingerprint}};
  if (!subject_alt_names.empty()) j["subject_alt_names"] = subject_alt_names;
  return j;
}

Result<CertificateInfo> DescribeCertificate(std::string_view der) {
  BG_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der, 0));
  return Describe(cert.get());
}

Result<PublicKey> CertificatePublicKey(std::string_view der) {
  BG_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(der, 0));
  return KeyOf(cert.get());
}

Result<std::vector<std::string>> CertificatesFromPem(std::string_view pem, const std::string& source) {
  if (pem.size() > kMaxAnchorFileBytes) return Status::Error(source + ": too large");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<std::string> out;
  while (bio) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    unsigned char* buf = nullptr;
    const int n = i2d_X509(cert.get(), &buf);
    if (n <= 0) return Status::Error(source + ": " + OpenSslError());
    out.emplace_back(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
    OPENSSL_free(buf);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  if (out.empty()) return Status::Error(source + ": no PEM CERTIFICATE block");
  return out;
}

Result<TrustAnchors> TrustAnchors::FromPem(std::string_view pem, const std::string& source) {
  BG_ASSIGN_OR_RETURN(std::vector<std::string> ders, CertificatesFromPem(pem, source));
  TrustAnchors out;
  out.store_ = std::make_shared<Store>();
  out.store_->store = X509_STORE_new();
  if (out.store_->store == nullptr) return Status::Error("X509_STORE_new: " + OpenSslError());
  for (std::size_t i = 0; i < ders.size(); ++i) {
    auto cert = ParseDer(ders[i], i);
    if (!cert.ok()) return Status::Error(source + ": " + cert.status().message());
    if (X509_STORE_add_cert(out.store_->store, cert->get()) != 1) {
      ERR_clear_error();  // the same certificate twice: harmless
    }
    out.store_->certs.push_back(std::move(cert).value());
  }
  return out;
}

Result<TrustAnchors> TrustAnchors::LoadPemFiles(const std::vector<std::string>& paths) {
  std::string all;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Error(path + ": cannot be opened");
    std::string text(kMaxAnchorFileBytes + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxAnchorFileBytes) return Status::Error(path + ": too large");
    BG_RETURN_IF_ERROR(CertificatesFromPem(text, path).status());
    all += text + "\n";
  }
  return FromPem(all, paths.empty() ? "<none>" : paths.front());
}

std::size_t TrustAnchors::size() const { return store_ ? store_->certs.size() : 0; }

std::vector<CertificateInfo> TrustAnchors::Describe() const {
  std::vector<CertificateInfo> out;
  if (store_) {
    for (const auto& c : store_->certs) out.push_back(bg::Describe(c.get()));
  }
  return out;
}

Result<VerifiedChain> VerifyCertificateChain(const TrustAnchors& anchors,
                                             const std::vector<std::string>& chain_der,
                                             CertificateTime when, std::int64_t now) {
  if (anchors.size() == 0) return Untrusted("no certificate anchors are configured");
  if (chain_der.empty()) return Status::Reject(Reason::kSignatureInvalid, "model.sig: empty certificate chain");
  std::vector<X509Ptr> certs;
  for (std::size_t i = 0; i < chain_der.size(); ++i) {
    BG_ASSIGN_OR_RETURN(X509Ptr cert, ParseDer(chain_der[i], i));
    certs.push_back(std::move(cert));
  }
  X509* leaf = certs.front().get();
  const CertificateInfo leaf_info = Describe(leaf);
  const auto issued = Seconds(X509_get0_notBefore(leaf));
  if (!issued) return Untrusted("the signing certificate has no readable notBefore");
  if (*issued > now) {
    return Untrusted("the signing certificate (" + leaf_info.subject + ") is not valid until " +
                     leaf_info.not_before);
  }
  const std::int64_t at = when == CertificateTime::kIssuance ? *issued : now;

  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  for (std::size_t i = 1; i < certs.size(); ++i) sk_X509_push(untrusted.get(), certs[i].get());
  std::unique_ptr<X509_STORE_CTX, StoreCtxFree> ctx(X509_STORE_CTX_new());
  if (!ctx || !untrusted ||
      X509_STORE_CTX_init(ctx.get(), anchors.store()->store, leaf, untrusted.get()) != 1) {
    return Status::Error("X509_STORE_CTX_init: " + OpenSslError());
  }
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<std::time_t>(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int error = X509_STORE_CTX_get_error(ctx.get());
    const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    X509* bad = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    const std::string who = bad != nullptr ? NameText(X509_get_subject_name(bad)) : "?";
    return Untrusted("the certificate chain does not verify against the configured anchors: " +
                     std::string(X509_verify_cert_error_string(error)) + " (certificate " +
                     std::to_string(depth) + ", " + who + "; checked at " + Rfc3339(at) +
                     (when == CertificateTime::kIssuance ? ", the signing certificate's notBefore)" : ")"));
  }
  std::vector<CertificateInfo> verified_path;
  std::unique_ptr<STACK_OF(X509), StackPopFree> path(X509_STORE_CTX_get1_chain(ctx.get()));
  for (int i = 0; path && i < sk_X509_num(path.get()); ++i) {
    verified_path.push_back(Describe(sk_X509_value(path.get(), i)));
  }

  // May this certificate sign? (model_signing: KeyUsage digitalSignature, else EKU codeSigning.)
  const std::uint32_t flags = X509_get_extension_flags(leaf);
  const bool ku_sign = (flags & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) != 0;
  const bool eku_sign = (flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(leaf) & XKU_CODE_SIGN) != 0;
  if (!ku_sign && !eku_sign) {
    return Untrusted("the signing certificate (" + leaf_info.subject +
                     ") may not sign: it has neither KeyUsage digitalSignature nor "
                     "ExtendedKeyUsage codeSigning");
  }
  auto key = KeyOf(leaf);
  if (!key.ok()) return Untrusted("the signing certificate's key: " + key.status().message());
  if (!EcdsaHashForCurve(key->kind())) {
    return Untrusted("the signing certificate's key is " + std::string(KeyKindName(key->kind())) +
                     "; model_signing signs with ECDSA P-256, P-384 or P-521");
  }
  return VerifiedChain{std::move(key).value(), leaf_info, std::move(verified_path), Rfc3339(at)};
}

}  // namespace bg

// X.509 for model_signing's certificate method: the signing certificate and the intermediates
// that model.sig carries, verified by OpenSSL against the configured trust anchors.
//
// What "valid" means, as model_signing's own `verify certificate` decides it (its reference
// behaviour): the chain must lead from the signing certificate to an anchor (a CA certificate
// configured as trusted; partial chains to a configured intermediate are not accepted), each
// link's signature and CA constraints checked by X509_verify_cert; the signing certificate must
// allow signing (KeyUsage digitalSignature, or ExtendedKeyUsage codeSigning); and its key must be
// ECDSA P-256/P-384/P-521.
//
// Validity periods. Sigstore-style leaf certificates live for minutes, so a signature is
// normally checked long after its certificate expired; without a transparency log there is no
// trusted signing time. model_signing therefore checks the whole chain at the signing
// certificate's notBefore (the moment it was issued, i.e. when it could first have signed):
// CertificateTime::kIssuance, our default. The leaf, every intermediate and the anchor must all
// have been valid then: an intermediate that had already expired when the leaf was issued fails,
// a leaf that expired since does not. Operators of a long-lived PKI can ask for
// CertificateTime::kNow, the TLS rule: everything valid at the time of verification.
//
// Thread safety: TrustAnchors is immutable after loading; VerifyCertificateChain may be called
// from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/signature/crypto.h"

namespace bg {

enum class CertificateTime { kIssuance, kNow };

struct CertificateInfo {
  std::string subject;      // RFC 2253 ("CN=release,O=Acme")
  std::string issuer;
  std::string serial;       // hex
  std::string not_before;   // RFC 3339 UTC
  std::string not_after;
  std::string fingerprint;  // "SHA256:" + hex of SHA-256(DER)
  std::vector<std::string> subject_alt_names;  // "email:x@y", "URI:...", "DNS:..."
  Json ToJson() const;
};

// What a DER certificate says about itself (nothing verified). signature-invalid if malformed.
Result<CertificateInfo> DescribeCertificate(std::string_view der);

class TrustAnchors {
 public:
  // Every CERTIFICATE block of every file; a file without one is an error naming it.
  static Result<TrustAnchors> LoadPemFiles(const std::vector<std::string>& paths);
  static Result<TrustAnchors> FromPem(std::string_view pem, const std::string& source);
  std::size_t size() const;
  std::vector<CertificateInfo> Describe() const;

  struct Store;
  const std::shared_ptr<Store>& store() const { return store_; }

 private:
  std::shared_ptr<Store> store_;
};

struct VerifiedChain {
  PublicKey signing_key;                // the signing certificate's key
  CertificateInfo signing_certificate;
  std::vector<CertificateInfo> path;    // signing certificate first, the anchor last
  std::string checked_at;               // RFC 3339: the time the chain was checked at
};

// `chain_der`: the signing certificate first, then intermediates, as model.sig lists them. A
// malformed certificate is signature-invalid; a chain that does not verify (unknown root,
// expired, not allowed to sign, an unsupported key) is signer-untrusted, naming why.
Result<VerifiedChain> VerifyCertificateChain(const TrustAnchors& anchors,
                                             const std::vector<std::string>& chain_der,
                                             CertificateTime when, std::int64_t now);

// The key of a DER certificate, unverified (to check a signature before the chain).
Result<PublicKey> CertificatePublicKey(std::string_view der);

// The producer side: the DER of every CERTIFICATE block in `pem`, in order.
Result<std::vector<std::string>> CertificatesFromPem(std::string_view pem, const std::string& source);

}  // namespace bg

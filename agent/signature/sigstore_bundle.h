// SigstoreBundle: model.sig, a Sigstore bundle (protobuf-specs dev.sigstore.bundle.v1.Bundle in
// its JSON form, media type v0.3) wrapping a DSSE envelope, as model_signing writes it for the
// key and certificate methods:
//
//   {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
//    "verificationMaterial": {"publicKey": {"hint": "<hex sha256 of the key's PEM>"}
//                           | "x509CertificateChain": {"certificates": [{"rawBytes": b64}, ...]},
//                             "tlogEntries": []},
//    "dsseEnvelope": {"payload": b64, "payloadType": "application/vnd.in-toto+json",
//                     "signatures": [{"sig": b64, "keyid": ""}]}}
//
// model_signing 1.0.x wrote publicKey as {"rawBytes": b64(PEM), "keyDetails": "..."} instead of
// a hint; both are read. Bytes fields accept either base64 alphabet, padded or not (protobuf
// JSON's rule). The parse is bounded (ParseBoundedJson, kMaxSigstoreBundleBytes) and strict:
// every field must have its type; unknown fields are refused; exactly one DSSE signature. A
// Sigstore keyless bundle (a lone Fulcio "certificate", needing a transparency log) and a
// messageSignature bundle are refused with a reason that says so. Nothing here is trusted yet:
// the caller verifies the signature before it reads the payload.
//
// Thread safety: pure functions and plain data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/signature/dsse.h"

namespace bg {

inline constexpr std::size_t kMaxSigstoreBundleBytes = 16u << 20;
inline constexpr std::string_view kSigstoreBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";

struct SigstoreBundle {
  enum class Material { kPublicKey, kCertificateChain };
  Material material = Material::kPublicKey;
  std::string key_hint;       // publicKey.hint (lower-case hex), or ""
  std::string raw_public_key;  // publicKey.rawBytes decoded (1.0.x: the PEM), or ""
  std::string key_details;     // publicKey.keyDetails, informational
  std::vector<std::string> certificates;  // DER, the signing certificate first
  std::size_t tlog_entries = 0;  // present but not used (offline verification)
  DsseEnvelope envelope;
};

// Failures are signature-invalid rejections naming the field.
Result<SigstoreBundle> ParseSigstoreBundle(std::string_view json_text);

// The producer side: model.sig's JSON for `envelope` with a key hint, or a certificate chain.
std::string SigstoreBundleJsonWithHint(const DsseEnvelope& envelope, std::string_view hint);
std::string SigstoreBundleJsonWithChain(const DsseEnvelope& envelope,
                                        const std::vector<std::string>& certificates_der);

}  // namespace bg

// VerifyModelSignature: model.sig as `model_signing verify key` and `verify certificate` check
// it, offline, for one bundle (or, through `bundlegate signature verify`, one model directory).
//
// In order, each step only trusting what the one before proved:
//   1. parse the Sigstore bundle (sigstore_bundle.h); the DSSE payload type must be in-toto;
//   2. find the signing key: key method, the trusted key whose hint (or, for model_signing
//      1.0.x, whose raw key) the bundle names, else each trusted key in turn; certificate
//      method, the signing certificate's key;
//   3. verify the envelope's ECDSA signature over DSSE's PAE, hashed by the curve's size;
//   4. certificate method: the chain against the anchors (x509_chain.h);
//   5. parse the signed in-toto statement (in_toto_statement.h) and recompute the subject's
//      digest from the resources;
//   6. compare the resources with the files (model_signing_manifest.h).
// A key that is not trusted is signer-untrusted at step 2 (the signature cannot be checked
// without it); a certificate's trust is decided after its signature verified, so that a
// tampered envelope is always signature-invalid.
//
// Thread safety: uses only its arguments, which must outlive the call.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/signature/model_signing_manifest.h"
#include "agent/signature/signature_verdict.h"
#include "agent/signature/trusted_keys.h"
#include "agent/signature/x509_chain.h"

namespace bg {

struct ModelSigningTrust {
  const TrustedKeys* keys = nullptr;        // key method; null or empty: none trusted
  const TrustAnchors* anchors = nullptr;    // certificate method; null: none
  CertificateTime certificate_time = CertificateTime::kIssuance;
};

SignatureVerdict VerifyModelSignature(std::string_view model_sig, const ModelSigningTrust& trust,
                                      const std::vector<WalkedFile>& files,
                                      const ResourcePolicy& policy, std::int64_t now);

}  // namespace bg

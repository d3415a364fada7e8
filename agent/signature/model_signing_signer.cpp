#include "agent/signature/model_signing_signer.h"

#include <algorithm>

#include "agent/signature/dsse.h"
#include "agent/signature/in_toto_statement.h"
#include "agent/signature/sigstore_bundle.h"
#include "agent/signature/trusted_keys.h"
#include "agent/signature/x509_chain.h"

namespace bg {

Result<std::string> SignModel(const ModelSigningRequest& request) {
  if (request.key == nullptr) return Status::Error("no signing key");
  const auto hash = EcdsaHashForCurve(request.key->kind());
  if (!hash) {
    return Status::Error("model_signing signs with ECDSA P-256, P-384 or P-521, not " +
                         std::string(KeyKindName(request.key->kind())));
  }
  if (!request.certificates.empty()) {
    BG_ASSIGN_OR_RETURN(PublicKey leaf, CertificatePublicKey(request.certificates.front()));
    if (!leaf.Equals(request.key->public_key())) {
      return Status::Error("the signing certificate's key is not the private key's public key");
    }
  }
  std::vector<ModelSigningResource> resources;
  for (const auto& f : request.files) resources.push_back({f.path, f.sha256});
  std::sort(resources.begin(), resources.end(),
            [](const ModelSigningResource& a, const ModelSigningResource& b) {
              return ModelSigningPathLess(a.name, b.name);
            });
  DsseEnvelope envelope;
  envelope.payload_type = std::string(kInTotoPayloadType);
  envelope.payload = ModelSigningStatementJson(request.subject_name, resources, request.ignore_paths);
  BG_ASSIGN_OR_RETURN(std::string sig,
                      request.key->SignHashed(*hash, DssePae(envelope.payload_type, envelope.payload)));
  envelope.signatures.push_back({"", std::move(sig)});
  if (request.certificates.empty()) {
    return SigstoreBundleJsonWithHint(envelope, ModelSigningKeyHint(request.key->public_key()));
  }
  return SigstoreBundleJsonWithChain(envelope, request.certificates);
}

}  // namespace bg

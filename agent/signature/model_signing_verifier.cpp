#include "agent/signature/model_signing_verifier.h"

#include "agent/signature/dsse.h"
#include "agent/signature/in_toto_statement.h"
#include "agent/signature/sigstore_bundle.h"

namespace bg {
namespace {

Status Invalid(const std::string& message) {
  return Status::Reject(Reason::kSignatureInvalid, message);
}
Status Untrusted(const std::string& message) {
  return Status::Reject(Reason::kSignerUntrusted, message);
}

bool VerifyEnvelope(const PublicKey& key, const DsseEnvelope& envelope) {
  const auto hash = EcdsaHashForCurve(key.kind());
  if (!hash || envelope.signatures.empty()) return false;
  return key.VerifyHashed(*hash, DssePae(envelope.payload_type, envelope.payload),
                          envelope.signatures.front().sig);
}

void DescribeKey(const PublicKey& key, Json& signer) {
  signer["key"] = KeyFingerprint(key);
  signer["key_hint"] = ModelSigningKeyHint(key);
  signer["key_type"] = KeyKindName(key.kind());
  signer["identity"] = KeyFingerprint(key);
}

// Steps 2 and 3 for the key method.
Status VerifyWithTrustedKey(const SigstoreBundle& bundle, const ModelSigningTrust& trust,
                            Json& signer) {
  signer["method"] = "key";
  if (!bundle.key_hint.empty()) signer["key_hint"] = bundle.key_hint;
  const std::size_t count = trust.keys ? trust.keys->keys().size() : 0;
  if (count == 0) {
    return Untrusted("model.sig is signed with a key (model_signing's key method), and no "
                     "trusted_keys are configured");
  }
  const TrustedKey* chosen = nullptr;
  if (!bundle.key_hint.empty()) {
    chosen = trust.keys->ByHint(bundle.key_hint);
    if (chosen == nullptr) {
      return Untrusted("model.sig names key " + bundle.key_hint + " (publicKey.hint), which is none of the " +
                       std::to_string(count) + " trusted key(s)");
    }
  } else if (!bundle.raw_public_key.empty()) {
    const bool pem = bundle.raw_public_key.rfind("-----BEGIN", 0) == 0;
    auto embedded = pem ? PublicKey::FromPem(bundle.raw_public_key)
                        : PublicKey::FromSpkiDer(bundle.raw_public_key);
    if (!embedded.ok()) return Invalid("model.sig: publicKey.rawBytes: " + embedded.status().message());
    DescribeKey(*embedded, signer);
    chosen = trust.keys->ByKey(*embedded);
    if (chosen == nullptr) {
      return Untrusted("model.sig carries key " + KeyFingerprint(*embedded) +
                       " (publicKey.rawBytes, model_signing 1.0.x), which is none of the " +
                       std::to_string(count) + " trusted key(s)");
    }
  } else {
    // Neither hint nor key: only trying each trusted key can tell who signed.
    for (const auto& k : trust.keys->keys()) {
      if (VerifyEnvelope(k.key, bundle.envelope)) chosen = &k;
    }
    if (chosen == nullptr) {
      return Untrusted("model.sig names no key, and none of the " + std::to_string(count) +
                       " trusted key(s) verifies it");
    }
  }
  DescribeKey(chosen->key, signer);
  signer["key_file"] = chosen->source;
  if (!VerifyEnvelope(chosen->key, bundle.envelope)) {
    return Invalid("model.sig: the DSSE signature does not verify with trusted key " +
                   chosen->fingerprint + " (" + chosen->source +
                   "): the signature or its payload was changed");
  }
  return Status::Ok();
}

// Steps 2 to 4 for the certificate method.
Status VerifyWithCertificate(const SigstoreBundle& bundle, const ModelSigningTrust& trust,
                             std::int64_t now, Json& signer) {
  signer["method"] = "certificate";
  BG_ASSIGN_OR_RETURN(CertificateInfo leaf, DescribeCertificate(bundle.certificates.front()));
  signer["subject"] = leaf.subject;
  signer["issuer"] = leaf.issuer;
  signer["fingerprint"] = leaf.fingerprint;
  signer["not_before"] = leaf.not_before;
  signer["not_after"] = leaf.not_after;
  if (!leaf.subject_alt_names.empty()) signer["subject_alt_names"] = leaf.subject_alt_names;
  signer["identity"] = leaf.subject;
  auto key = CertificatePublicKey(bundle.certificates.front());
  if (!key.ok()) return Invalid("model.sig: the signing certificate's key: " + key.status().message());
  signer["key_type"] = KeyKindName(key->kind());
  if (!VerifyEnvelope(*key, bundle.envelope)) {
    return Invalid("model.sig: the DSSE signature does not verify with the signing certificate's "
                   "key (" + leaf.subject + "): the signature or its payload was changed");
  }
  if (trust.anchors == nullptr || trust.anchors->size() == 0) {
    return Untrusted("model.sig is signed with a certificate (" + leaf.subject +
                     "), and no certificate_anchors are configured");
  }
  BG_ASSIGN_OR_RETURN(VerifiedChain chain, VerifyCertificateChain(*trust.anchors, bundle.certificates,
                                                                  trust.certificate_time, now));
  Json path = Json::array();
  for (const auto& c : chain.path) path.push_back(c.subject);
  signer["chain"] = path;
  signer["checked_at"] = chain.checked_at;
  return Status::Ok();
}

}  // namespace

SignatureVerdict VerifyModelSignature(std::string_view model_sig, const ModelSigningTrust& trust,
                                      const std::vector<WalkedFile>& files,
                                      const ResourcePolicy& policy, std::int64_t now) {
  SignatureVerdict v;
  v.signer = {{"format", "model_signing"}, {"verified", false}};
  v.details = {{"file", policy.signature_path.empty() ? kModelSignatureFileName : policy.signature_path}};
  auto bundle = ParseSigstoreBundle(model_sig);
  if (!bundle.ok()) {
    v.status = bundle.status();
    return v;
  }
  if (bundle->envelope.payload_type != kInTotoPayloadType) {
    v.status = Invalid("model.sig: DSSE payload type \"" + bundle->envelope.payload_type.substr(0, 80) +
                       "\", expected \"" + std::string(kInTotoPayloadType) + "\"");
    return v;
  }
  if (bundle->tlog_entries > 0) v.details["tlog_entries_not_checked"] = bundle->tlog_entries;
  v.status = bundle->material == SigstoreBundle::Material::kPublicKey
                 ? VerifyWithTrustedKey(*bundle, trust, v.signer)
                 : VerifyWithCertificate(*bundle, trust, now, v.signer);
  if (!v.status.ok()) return v;

  auto statement = ParseModelSigningStatement(bundle->envelope.payload);
  if (!statement.ok()) {
    v.status = statement.status();
    return v;
  }
  v.details["subject"] = statement->subject_name;
  v.details["subject_digest"] = statement->subject_sha256;
  v.details["resources"] = statement->resources.size();
  if (!statement->ignore_paths.empty()) v.details["signed_ignore_paths"] = statement->ignore_paths;
  const std::string recomputed = ModelSigningSubjectDigest(statement->resources);
  if (recomputed != statement->subject_sha256) {
    v.status = Invalid("model.sig: the subject digest " + statement->subject_sha256 +
                       " is not the digest of the listed resources (" + recomputed + ")");
    return v;
  }
  const auto findings = CompareResources(*statement, files, policy);
  if (!findings.empty()) {
    Json list = Json::array();
    for (const auto& f : findings) list.push_back({{"path", f.path}, {"detail", f.detail}});
    v.details["differences"] = list;
    std::string summary = findings.front().path + ": " + findings.front().detail;
    if (findings.size() > 1) summary += " (and " + std::to_string(findings.size() - 1) + " more)";
    v.status = Invalid("the bundle is not what model.sig signed: " + summary);
    return v;
  }
  v.signer["verified"] = true;
  return v;
}

}  // namespace bg

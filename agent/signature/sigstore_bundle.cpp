#include "agent/signature/sigstore_bundle.h"

#include <initializer_list>

#include "agent/core/bounded_json.h"
#include "agent/core/hex.h"
#include "agent/signature/base64.h"

namespace bg {
namespace {

constexpr std::size_t kMaxCertificates = 10;
constexpr std::size_t kMaxCertificateBytes = 64 * 1024;

Status Invalid(const std::string& message) {
  return Status::Reject(Reason::kSignatureInvalid, "model.sig: " + message);
}

// Refuses keys of `object` outside `known`.
Status OnlyKnownKeys(const Json& object, const std::string& where,
                     std::initializer_list<std::string_view> known) {
  for (const auto& item : object.items()) {
    bool ok = false;
    for (const auto k : known) ok = ok || item.key() == k;
    if (!ok) return Invalid(where + ": unknown field \"" + item.key().substr(0, 60) + "\"");
  }
  return Status::Ok();
}

Result<const Json*> Object(const Json& parent, std::string_view key, const std::string& where) {
  const auto it = parent.find(key);
  if (it == parent.end()) return Invalid(where + ": \"" + std::string(key) + "\" is missing");
  if (!it->is_object()) return Invalid(where + "." + std::string(key) + " is not an object");
  return &*it;
}

Result<std::string> String(const Json& parent, std::string_view key, const std::string& where,
                           bool required = true) {
  const auto it = parent.find(key);
  if (it == parent.end() || (!required && it->is_null())) {
    if (required) return Invalid(where + ": \"" + std::string(key) + "\" is missing");
    return std::string();
  }
  if (!it->is_string()) return Invalid(where + "." + std::string(key) + " is not a string");
  return it->get<std::string>();
}

Result<std::string> Bytes(const Json& parent, std::string_view key, const std::string& where,
                          std::size_t max_bytes) {
  BG_ASSIGN_OR_RETURN(std::string text, String(parent, key, where));
  if (text.size() > max_bytes / 3 * 4 + 4) return Invalid(where + "." + std::string(key) + " is too large");
  auto bytes = Base64Decode(text, Base64Flavor::kAnyAlphabet);
  if (!bytes) return Invalid(where + "." + std::string(key) + " is not valid base64");
  return std::move(*bytes);
}

Status ReadPublicKey(const Json& pk, SigstoreBundle& out) {
  const std::string where = "verificationMaterial.publicKey";
  BG_RETURN_IF_ERROR(OnlyKnownKeys(pk, where, {"hint", "rawBytes", "keyDetails"}));
  BG_ASSIGN_OR_RETURN(out.key_hint, String(pk, "hint", where, /*required=*/false));
  if (!out.key_hint.empty() && !IsLowerHex(out.key_hint, 64)) {
    return Invalid(where + ".hint is not 64 lower-case hex digits");
  }
  if (pk.contains("rawBytes")) {
    BG_ASSIGN_OR_RETURN(out.raw_public_key, Bytes(pk, "rawBytes", where, kMaxCertificateBytes));
  }
  BG_ASSIGN_OR_RETURN(out.key_details, String(pk, "keyDetails", where, /*required=*/false));
  out.material = SigstoreBundle::Material::kPublicKey;
  return Status::Ok();
}

Status ReadChain(const Json& chain, SigstoreBundle& out) {
  const std::string where = "verificationMaterial.x509CertificateChain";
  BG_RETURN_IF_ERROR(OnlyKnownKeys(chain, where, {"certificates"}));
  const auto it = chain.find("certificates");
  if (it == chain.end() || !it->is_array() || it->empty()) {
    return Invalid(where + ".certificates must be a non-empty array");
  }
  if (it->size() > kMaxCertificates) {
    return Invalid(where + ": more than " + std::to_string(kMaxCertificates) + " certificates");
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    const Json& cert = (*it)[i];
    const std::string at = where + ".certificates[" + std::to_string(i) + "]";
    if (!cert.is_object()) return Invalid(at + " is not an object");
    BG_RETURN_IF_ERROR(OnlyKnownKeys(cert, at, {"rawBytes"}));
    BG_ASSIGN_OR_RETURN(std::string der, Bytes(cert, "rawBytes", at, kMaxCertificateBytes));
    if (der.empty()) return Invalid(at + ".rawBytes is empty");
    out.certificates.push_back(std::move(der));
  }
  out.material = SigstoreBundle::Material::kCertificateChain;
  return Status::Ok();
}

Status ReadMaterial(const Json& vm, SigstoreBundle& out) {
  const std::string where = "verificationMaterial";
  BG_RETURN_IF_ERROR(OnlyKnownKeys(vm, where, {"publicKey", "x509CertificateChain", "certificate",
                                               "tlogEntries", "timestampVerificationData"}));
  const int kinds = static_cast<int>(vm.contains("publicKey")) +
                    static_cast<int>(vm.contains("x509CertificateChain")) +
                    static_cast<int>(vm.contains("certificate"));
  if (kinds != 1) {
    return Invalid(where + " must have exactly one of publicKey, x509CertificateChain, certificate");
  }
  if (vm.contains("certificate")) {
    return Invalid("a Sigstore keyless signature (a Fulcio certificate, to be checked against a "
                   "transparency log) cannot be verified offline; sign with model_signing's key "
                   "or certificate method");
  }
  if (const auto it = vm.find("tlogEntries"); it != vm.end()) {
    if (!it->is_array()) return Invalid(where + ".tlogEntries is not an array");
    out.tlog_entries = it->size();
  }
  if (vm.contains("publicKey")) {
    BG_ASSIGN_OR_RETURN(const Json* pk, Object(vm, "publicKey", where));
    return ReadPublicKey(*pk, out);
  }
  BG_ASSIGN_OR_RETURN(const Json* chain, Object(vm, "x509CertificateChain", where));
  return ReadChain(*chain, out);
}

Status ReadEnvelope(const Json& env, SigstoreBundle& out) {
  const std::string where = "dsseEnvelope";
  BG_RETURN_IF_ERROR(OnlyKnownKeys(env, where, {"payload", "payloadType", "signatures"}));
  BG_ASSIGN_OR_RETURN(out.envelope.payload, Bytes(env, "payload", where, kMaxSigstoreBundleBytes));
  BG_ASSIGN_OR_RETURN(out.envelope.payload_type, String(env, "payloadType", where));
  const auto it = env.find("signatures");
  if (it == env.end() || !it->is_array()) return Invalid(where + ".signatures must be an array");
  if (it->size() != 1) {
    return Invalid(where + " has " + std::to_string(it->size()) +
                   " signatures; model_signing writes exactly one");
  }
  const Json& sig = (*it)[0];
  if (!sig.is_object()) return Invalid(where + ".signatures[0] is not an object");
  BG_RETURN_IF_ERROR(OnlyKnownKeys(sig, where + ".signatures[0]", {"sig", "keyid"}));
  DsseSignature s;
  BG_ASSIGN_OR_RETURN(s.sig, Bytes(sig, "sig", where + ".signatures[0]", 4096));
  if (s.sig.empty()) return Invalid(where + ".signatures[0].sig is empty");
  BG_ASSIGN_OR_RETURN(s.keyid, String(sig, "keyid", where + ".signatures[0]", /*required=*/false));
  out.envelope.signatures.push_back(std::move(s));
  return Status::Ok();
}

Json EnvelopeJson(const DsseEnvelope& envelope) {
  Json sigs = Json::array();
  for (const auto& s : envelope.signatures) {
    sigs.push_back({{"sig", Base64Encode(s.sig)}, {"keyid", s.keyid}});
  }
  return {{"payload", Base64Encode(envelope.payload)},
          {"payloadType", envelope.payload_type},
          {"signatures", sigs}};
}

}  // namespace

Result<SigstoreBundle> ParseSigstoreBundle(std::string_view json_text) {
  auto parsed = ParseBoundedJson(json_text, "model.sig", {kMaxSigstoreBundleBytes, 32});
  if (!parsed.ok()) return Status::Reject(Reason::kSignatureInvalid, parsed.status().message());
  const Json& root = *parsed;
  if (!root.is_object()) return Invalid("not a JSON object");
  BG_RETURN_IF_ERROR(OnlyKnownKeys(root, "bundle", {"mediaType", "verificationMaterial",
                                                    "dsseEnvelope", "messageSignature"}));
  BG_ASSIGN_OR_RETURN(const std::string media_type, String(root, "mediaType", "bundle"));
  if (media_type != kSigstoreBundleMediaType) {
    return Invalid("mediaType \"" + media_type.substr(0, 80) + "\", expected \"" +
                   std::string(kSigstoreBundleMediaType) + "\" (as model_signing writes)");
  }
  if (root.contains("messageSignature") || !root.contains("dsseEnvelope")) {
    return Invalid("not a DSSE bundle (no dsseEnvelope): model_signing signs a DSSE envelope");
  }
  SigstoreBundle out;
  BG_ASSIGN_OR_RETURN(const Json* vm, Object(root, "verificationMaterial", "bundle"));
  BG_RETURN_IF_ERROR(ReadMaterial(*vm, out));
  BG_ASSIGN_OR_RETURN(const Json* env, Object(root, "dsseEnvelope", "bundle"));
  BG_RETURN_IF_ERROR(ReadEnvelope(*env, out));
  return out;
}

std::string SigstoreBundleJsonWithHint(const DsseEnvelope& envelope, std::string_view hint) {
  const Json j = {{"mediaType", kSigstoreBundleMediaType},
                  {"verificationMaterial",
                   {{"publicKey", {{"hint", hint}}}, {"tlogEntries", Json::array()}}},
                  {"dsseEnvelope", EnvelopeJson(envelope)}};
  return j.dump();
}

std::string SigstoreBundleJsonWithChain(const DsseEnvelope& envelope,
                                        const std::vector<std::string>& certificates_der) {
  Json certs = Json::array();
  for (const auto& der : certificates_der) certs.push_back({{"rawBytes", Base64Encode(der)}});
  const Json j = {{"mediaType", kSigstoreBundleMediaType},
                  {"verificationMaterial",
                   {{"x509CertificateChain", {{"certificates", certs}}},
                    {"tlogEntries", Json::array()}}},
                  {"dsseEnvelope", EnvelopeJson(envelope)}};
  return j.dump();
}

}  // namespace bg

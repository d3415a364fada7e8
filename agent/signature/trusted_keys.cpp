#include "agent/signature/trusted_keys.h"

#include <fstream>

#include "agent/core/sha256.h"
#include "agent/signature/base64.h"

namespace bg {

std::string ModelSigningKeyHint(const PublicKey& key) { return Sha256Hex(key.SpkiPem()); }

std::string KeyFingerprint(const PublicKey& key) {
  return "SHA256:" + Base64Encode(Digest(HashAlgorithm::kSha256, key.SpkiDer()), /*pad=*/false);
}

Status TrustedKeys::Add(const std::string& pem, const std::string& source) {
  auto key = PublicKey::FromPem(pem);
  if (!key.ok()) return Status::Error(source + ": " + key.status().message());
  if (!EcdsaHashForCurve(key->kind())) {
    return Status::Error(source + ": a " + std::string(KeyKindName(key->kind())) +
                         " key; model_signing's key method signs with ECDSA P-256, P-384 or P-521");
  }
  TrustedKey t{source, *key, ModelSigningKeyHint(*key), KeyFingerprint(*key)};
  for (const auto& k : keys_) {
    if (k.key.Equals(t.key)) return Status::Ok();  // listed twice: one is enough
  }
  keys_.push_back(std::move(t));
  return Status::Ok();
}

Result<TrustedKeys> TrustedKeys::FromPem(const std::string& pem, const std::string& source) {
  TrustedKeys out;
  BG_RETURN_IF_ERROR(out.Add(pem, source));
  return out;
}

Result<TrustedKeys> TrustedKeys::LoadPemFiles(const std::vector<std::string>& paths) {
  TrustedKeys out;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::Error(path + ": cannot be opened");
    std::string text((1 << 20) + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > (1u << 20)) return Status::Error(path + ": too large for a public key");
    BG_RETURN_IF_ERROR(out.Add(text, path));
  }
  return out;
}

const TrustedKey* TrustedKeys::ByHint(const std::string& hint) const {
  for (const auto& k : keys_) {
    if (k.hint == hint) return &k;
  }
  return nullptr;
}

const TrustedKey* TrustedKeys::ByKey(const PublicKey& key) const {
  for (const auto& k : keys_) {
    if (k.key.Equals(key)) return &k;
  }
  return nullptr;
}

}  // namespace bg

#include "agent/signature/ssh_key.h"

#include "agent/signature/base64.h"
#include "agent/signature/ssh_wire.h"

namespace bg {
namespace {

constexpr std::size_t kMaxBlobBytes = 16384;  // a 16384-bit RSA key is about 2 KiB

Status Invalid(std::string message) {
  return Status::Reject(Reason::kSignatureInvalid, std::move(message));
}

struct EcCurve {
  const char* type;
  const char* curve;
  KeyKind kind;
};
constexpr EcCurve kCurves[] = {
    {"ecdsa-sha2-nistp256", "nistp256", KeyKind::kEcP256},
    {"ecdsa-sha2-nistp384", "nistp384", KeyKind::kEcP384},
    {"ecdsa-sha2-nistp521", "nistp521", KeyKind::kEcP521},
};

const EcCurve* FindCurve(std::string_view type) {
  for (const auto& c : kCurves) {
    if (type == c.type) return &c;
  }
  return nullptr;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 64)) {
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

Result<PublicKey> ParseKeyFields(std::string_view type, SshReader& in) {
  if (type == "ssh-ed25519") {
    std::string_view pk;
    if (!in.ReadString(&pk)) return Invalid("ssh-ed25519 key: truncated");
    return PublicKey::FromEd25519(pk);
  }
  if (const EcCurve* c = FindCurve(type)) {
    std::string_view curve, point;
    if (!in.ReadString(&curve) || !in.ReadString(&point)) return Invalid(std::string(type) + " key: truncated");
    if (curve != c->curve) {
      return Invalid(std::string(type) + " key names curve \"" + Printable(curve) + "\"");
    }
    return PublicKey::FromEcPoint(c->kind, point);
  }
  if (type == "ssh-rsa") {
    std::string_view e, n;
    if (!in.ReadPositiveMpint(&e) || !in.ReadPositiveMpint(&n)) {
      return Invalid("ssh-rsa key: truncated or malformed integers");
    }
    return PublicKey::FromRsa(e, n);
  }
  if (EndsWith(type, "-cert-v01@openssh.com")) {
    return Invalid("OpenSSH certificates (" + Printable(type) +
                   ") are not supported; list the signer's plain public key in allowed_signers");
  }
  if (type.rfind("sk-", 0) == 0) {
    return Invalid("security-key (FIDO) SSH keys (" + Printable(type) + ") are not supported");
  }
  return Invalid("unsupported SSH key type \"" + Printable(type) + "\"");
}

}  // namespace

Result<SshPublicKey> SshPublicKey::FromBlob(std::string_view blob) {
  if (blob.size() > kMaxBlobBytes) return Invalid("SSH public key: larger than 16 KiB");
  SshReader in(blob);
  std::string_view type;
  if (!in.ReadString(&type)) return Invalid("SSH public key: truncated");
  BG_ASSIGN_OR_RETURN(PublicKey key, ParseKeyFields(type, in));
  if (!in.empty()) return Invalid(std::string(type) + " key: trailing bytes after the key");
  return SshPublicKey(std::string(type), std::string(blob), std::move(key));
}

Result<SshPublicKey> SshPublicKey::FromText(std::string_view type, std::string_view base64) {
  if (base64.size() > kMaxBlobBytes * 2) return Invalid("SSH public key: too long");
  const auto blob = Base64Decode(base64, Base64Flavor::kStandardPadded);
  if (!blob) return Invalid("SSH public key: not valid base64");
  BG_ASSIGN_OR_RETURN(SshPublicKey key, FromBlob(*blob));
  if (key.type() != type) {
    return Invalid("key line says \"" + Printable(type) + "\" but the key is " + key.type());
  }
  return key;
}

std::string SshPublicKey::Fingerprint() const {
  return "SHA256:" + Base64Encode(Digest(HashAlgorithm::kSha256, blob_), /*pad=*/false);
}

Status SshPublicKey::VerifySignature(std::string_view signature_blob,
                                     std::string_view data) const {
  SshReader in(signature_blob);
  std::string_view algorithm, sig;
  if (!in.ReadString(&algorithm) || !in.ReadString(&sig) || !in.empty()) {
    return Invalid("the SSH signature is not (string algorithm, string signature)");
  }
  bool ok = false;
  if (type_ == "ssh-ed25519") {
    if (algorithm != "ssh-ed25519") return Invalid("signature algorithm " + Printable(algorithm) + " for an ssh-ed25519 key");
    ok = key_.VerifyEd25519(data, sig);
  } else if (FindCurve(type_) != nullptr) {
    if (algorithm != type_) return Invalid("signature algorithm " + Printable(algorithm) + " for an " + type_ + " key");
    SshReader rs(sig);
    std::string_view r, s;
    if (!rs.ReadPositiveMpint(&r) || !rs.ReadPositiveMpint(&s) || !rs.empty()) {
      return Invalid("the ECDSA signature is not two positive integers");
    }
    const auto der = EcdsaSignatureDer(r, s);
    ok = der && key_.VerifyHashed(*EcdsaHashForCurve(key_.kind()), data, *der);
  } else if (type_ == "ssh-rsa") {
    HashAlgorithm hash;
    if (algorithm == "rsa-sha2-256") {
      hash = HashAlgorithm::kSha256;
    } else if (algorithm == "rsa-sha2-512") {
      hash = HashAlgorithm::kSha512;
    } else {
      return Invalid("RSA signature algorithm \"" + Printable(algorithm) +
                     "\" is not accepted (rsa-sha2-256 or rsa-sha2-512 only)");
    }
    const std::size_t modulus_bytes = static_cast<std::size_t>(key_.bits() + 7) / 8;
    if (sig.size() > modulus_bytes) return Invalid("the RSA signature is longer than the modulus");
    // OpenSSH accepts a signature shorter than the modulus (leading zeros dropped).
    std::string padded(modulus_bytes - sig.size(), '\0');
    padded.append(sig);
    ok = key_.VerifyHashed(hash, data, padded);
  }
  if (!ok) return Invalid("the signature does not verify with the " + type_ + " key " + Fingerprint());
  return Status::Ok();
}

}  // namespace bg

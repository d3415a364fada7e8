#include "agent/signature/openssh_private_key.h"

#include "agent/signature/base64.h"
#include "agent/signature/ssh_wire.h"
#include "agent/signature/sshsig.h"

namespace bg {
namespace {

constexpr std::string_view kBegin = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view kEnd = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view kMagic{"openssh-key-v1\0", 15};

Status Bad(const std::string& why) { return Status::Error("OpenSSH private key: " + why); }

KeyKind CurveKind(std::string_view type) {
  if (type == "ecdsa-sha2-nistp256") return KeyKind::kEcP256;
  if (type == "ecdsa-sha2-nistp384") return KeyKind::kEcP384;
  if (type == "ecdsa-sha2-nistp521") return KeyKind::kEcP521;
  return KeyKind::kUnsupported;
}

Result<std::string> Dearmor(std::string_view text) {
  if (text.size() > (1u << 20)) return Bad("too large");
  const std::size_t begin = text.find(kBegin);
  const std::size_t end = text.find(kEnd);
  if (begin == std::string_view::npos || end == std::string_view::npos || end < begin) {
    return Bad("no \"" + std::string(kBegin) + "\" block (convert PEM keys with ssh-keygen -p)");
  }
  std::string base64;
  for (const char c : text.substr(begin + kBegin.size(), end - begin - kBegin.size())) {
    if (c != '\n' && c != '\r') base64 += c;
  }
  auto blob = Base64Decode(base64, Base64Flavor::kStandardPadded);
  if (!blob) return Bad("the base64 does not decode");
  return std::move(*blob);
}

}  // namespace

Result<OpenSshPrivateKey> OpenSshPrivateKey::Parse(std::string_view text) {
  BG_ASSIGN_OR_RETURN(std::string blob, Dearmor(text));
  SshReader in(blob);
  std::string_view magic, cipher, kdf, kdf_options, public_blob, secret;
  std::uint32_t count = 0;
  if (!in.ReadBytes(kMagic.size(), &magic) || magic != kMagic) return Bad("not openssh-key-v1");
  if (!in.ReadString(&cipher) || !in.ReadString(&kdf) || !in.ReadString(&kdf_options) ||
      !in.ReadU32(&count)) {
    return Bad("truncated header");
  }
  if (cipher != "none" || kdf != "none") {
    return Bad("the key is encrypted; sign with ssh-keygen -Y sign (or an agent) instead");
  }
  if (count != 1) return Bad("holds " + std::to_string(count) + " keys; exactly one is supported");
  if (!in.ReadString(&public_blob) || !in.ReadString(&secret) || !in.empty()) return Bad("truncated");
  auto pub = SshPublicKey::FromBlob(public_blob);
  if (!pub.ok()) return Bad(pub.status().message());

  SshReader s(secret);
  std::uint32_t check1 = 0, check2 = 0;
  std::string_view type;
  if (!s.ReadU32(&check1) || !s.ReadU32(&check2) || check1 != check2 || !s.ReadString(&type)) {
    return Bad("the private section is malformed (or encrypted)");
  }
  if (type != pub->type()) return Bad("the private section is for another key type");
  std::optional<Result<PrivateKey>> key;
  if (type == "ssh-ed25519") {
    std::string_view pk, sk;
    if (!s.ReadString(&pk) || !s.ReadString(&sk) || sk.size() != 64 || sk.substr(32) != pk) {
      return Bad("malformed Ed25519 private key");
    }
    key = PrivateKey::FromEd25519Seed(sk.substr(0, 32));
  } else if (CurveKind(type) != KeyKind::kUnsupported) {
    std::string_view curve, point, scalar;
    if (!s.ReadString(&curve) || !s.ReadString(&point) || !s.ReadPositiveMpint(&scalar)) {
      return Bad("malformed ECDSA private key");
    }
    key = PrivateKey::FromEcKeypair(CurveKind(type), scalar, point);
  } else {
    return Bad(std::string(type) + " keys cannot sign here (Ed25519 and ECDSA only); use ssh-keygen -Y sign");
  }
  if (!key->ok()) return Bad(key->status().message());
  std::string_view comment;
  if (!s.ReadString(&comment)) return Bad("truncated private section");
  for (std::uint32_t i = 1; !s.empty(); ++i) {
    std::string_view pad;
    if (!s.ReadBytes(1, &pad) || static_cast<unsigned char>(pad[0]) != (i & 0xFF)) return Bad("bad padding");
  }
  if (!(**key).public_key().Equals(pub->key())) return Bad("the private key does not match its public key");
  return OpenSshPrivateKey(std::move(pub).value(), std::move(**key));
}

Result<std::string> OpenSshPrivateKey::SignArmored(std::string_view message,
                                                   std::string_view sig_namespace) const {
  const HashAlgorithm hash = HashAlgorithm::kSha512;
  const std::string data = SshSignedData(sig_namespace, hash, message);
  std::string sig_blob;
  if (public_.type() == "ssh-ed25519") {
    BG_ASSIGN_OR_RETURN(std::string sig, key_.SignEd25519(data));
    PutString(&sig_blob, "ssh-ed25519");
    PutString(&sig_blob, sig);
  } else {
    BG_ASSIGN_OR_RETURN(std::string der, key_.SignHashed(*EcdsaHashForCurve(key_.kind()), data));
    const auto rs = EcdsaSignatureRs(der);
    if (!rs) return Status::Error("ECDSA signing produced an unreadable signature");
    std::string inner;
    PutMpint(&inner, rs->first);
    PutMpint(&inner, rs->second);
    PutString(&sig_blob, public_.type());
    PutString(&sig_blob, inner);
  }
  return ArmorSshSignature(SshSignatureBlob(public_, sig_namespace, hash, sig_blob));
}

}  // namespace bg

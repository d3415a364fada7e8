#include "agent/signature/sshsig.h"

#include "agent/signature/base64.h"
#include "agent/signature/ssh_wire.h"

namespace bg {
namespace {

constexpr std::string_view kMagic = "SSHSIG";
constexpr std::uint32_t kVersion = 1;

Status Invalid(std::string message) {
  return Status::Reject(Reason::kSignatureInvalid, "SSH signature: " + std::move(message));
}

std::string Printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

// Consumes one line break (LF or CRLF) at the front of `s`.
bool EatLineBreak(std::string_view& s) {
  if (s.substr(0, 2) == "\r\n") {
    s.remove_prefix(2);
    return true;
  }
  if (s.substr(0, 1) == "\n") {
    s.remove_prefix(1);
    return true;
  }
  return false;
}

}  // namespace

Result<std::string> DearmorSshSignature(std::string_view armored) {
  if (armored.size() > kMaxArmoredSignatureBytes) {
    return Invalid(std::to_string(armored.size()) + " bytes, more than the " +
                   std::to_string(kMaxArmoredSignatureBytes) + " a signature may have");
  }
  std::string_view rest = armored;
  if (rest.substr(0, kSshSignatureBegin.size()) != kSshSignatureBegin) {
    return Invalid("does not start with \"" + std::string(kSshSignatureBegin) + "\"");
  }
  rest.remove_prefix(kSshSignatureBegin.size());
  if (!EatLineBreak(rest)) return Invalid("no line break after the header");
  std::string base64;
  bool footer = false;
  while (!rest.empty()) {
    const std::size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line == kSshSignatureEnd) {
      footer = true;
      break;
    }
    for (const char c : line) {
      const bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
      if (!b64) return Invalid("a character that is not base64 between header and footer");
    }
    base64.append(line);
  }
  if (!footer) return Invalid("no \"" + std::string(kSshSignatureEnd) + "\" line");
  if (!rest.empty()) return Invalid("text after the footer");
  auto blob = Base64Decode(base64, Base64Flavor::kStandardPadded);
  if (!blob) return Invalid("the base64 between header and footer does not decode");
  return std::move(*blob);
}

Result<SshSignature> ParseSshSignatureBlob(std::string_view blob) {
  SshReader in(blob);
  std::string_view magic, key_blob, ns, reserved, hash, signature;
  std::uint32_t version = 0;
  if (!in.ReadBytes(kMagic.size(), &magic) || magic != kMagic) {
    return Invalid("the blob does not start with \"SSHSIG\"");
  }
  if (!in.ReadU32(&version)) return Invalid("truncated after the preamble");
  if (version != kVersion) {
    return Invalid("version " + std::to_string(version) + " (only version 1 is understood)");
  }
  if (!in.ReadString(&key_blob) || !in.ReadString(&ns) || !in.ReadString(&reserved) ||
      !in.ReadString(&hash) || !in.ReadString(&signature)) {
    return Invalid("truncated: a field's length runs past the end of the blob");
  }
  if (!in.empty()) return Invalid(std::to_string(in.remaining()) + " bytes after the signature");
  if (ns.empty()) return Invalid("the namespace is empty");
  auto key = SshPublicKey::FromBlob(key_blob);
  if (!key.ok()) return Invalid(key.status().message());
  HashAlgorithm algorithm;
  if (hash == "sha256") {
    algorithm = HashAlgorithm::kSha256;
  } else if (hash == "sha512") {
    algorithm = HashAlgorithm::kSha512;
  } else {
    return Invalid("hash algorithm \"" + Printable(hash) + "\" (sha256 or sha512 only)");
  }
  return SshSignature{std::move(key).value(), std::string(ns), std::string(reserved), algorithm,
                      std::string(signature)};
}

Result<SshSignature> ParseArmoredSshSignature(std::string_view armored) {
  BG_ASSIGN_OR_RETURN(std::string blob, DearmorSshSignature(armored));
  return ParseSshSignatureBlob(blob);
}

std::string SshSignedData(std::string_view sig_namespace, HashAlgorithm hash,
                          std::string_view message) {
  std::string out(kMagic);
  PutString(&out, sig_namespace);
  PutString(&out, "");  // reserved: always empty when signing; what the signer put is ignored
  PutString(&out, HashAlgorithmName(hash));
  PutString(&out, Digest(hash, message));
  return out;
}

Status VerifySshSignature(const SshSignature& sig, std::string_view message,
                          std::string_view expected_namespace) {
  if (sig.sig_namespace != expected_namespace) {
    return Invalid("made for namespace \"" + Printable(sig.sig_namespace) + "\", not \"" +
                   std::string(expected_namespace) + "\"");
  }
  // As ssh-keygen: the reserved field is not part of what is verified (it is always signed
  // empty), so a signer cannot smuggle meaning into it.
  const Status verified =
      sig.key.VerifySignature(sig.signature, SshSignedData(sig.sig_namespace, sig.hash, message));
  if (!verified.ok()) return Invalid(verified.message());
  return Status::Ok();
}

std::string SshSignatureBlob(const SshPublicKey& key, std::string_view sig_namespace,
                             HashAlgorithm hash, std::string_view signature) {
  std::string out(kMagic);
  PutU32(&out, kVersion);
  PutString(&out, key.blob());
  PutString(&out, sig_namespace);
  PutString(&out, "");
  PutString(&out, HashAlgorithmName(hash));
  PutString(&out, signature);
  return out;
}

std::string ArmorSshSignature(std::string_view blob) {
  const std::string base64 = Base64Encode(blob);
  std::string out(kSshSignatureBegin);
  out += '\n';
  for (std::size_t i = 0; i < base64.size(); i += 70) out += base64.substr(i, 70) + "\n";
  out += kSshSignatureEnd;
  out += '\n';
  return out;
}

}  // namespace bg

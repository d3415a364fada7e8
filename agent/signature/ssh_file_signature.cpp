#include "agent/signature/ssh_file_signature.h"

#include "agent/signature/sshsig.h"

namespace bg {

SignatureVerdict VerifySshFileSignature(std::string_view armored, std::string_view message,
                                        const SshTrust& trust, std::int64_t now) {
  SignatureVerdict v;
  v.signer = {{"format", "ssh"}, {"verified", false}};
  auto sig = ParseArmoredSshSignature(armored);
  if (!sig.ok()) {
    v.status = sig.status();
    return v;
  }
  v.signer["key"] = sig->key.Fingerprint();
  v.signer["key_type"] = sig->key.type();
  v.signer["namespace"] = sig->sig_namespace;
  v.signer["hash"] = HashAlgorithmName(sig->hash);
  v.signer["identity"] = sig->key.Fingerprint();
  v.status = VerifySshSignature(*sig, message, trust.sig_namespace);
  if (!v.status.ok()) return v;
  if (trust.signers == nullptr) {
    v.status = Status::Reject(Reason::kSignerUntrusted, "no allowed_signers file is configured");
    return v;
  }
  SignerLookup found;
  if (trust.principals.empty()) {
    found = trust.signers->Find(sig->key, trust.sig_namespace, now);
  } else {
    for (const auto& principal : trust.principals) {
      SignerLookup attempt = trust.signers->Find(sig->key, trust.sig_namespace, now, principal);
      if (attempt.signer != nullptr || found.why_not.empty()) found = attempt;
      if (found.signer != nullptr) {
        v.signer["principal"] = principal;
        break;
      }
    }
  }
  if (found.signer == nullptr) {
    v.status = Status::Reject(Reason::kSignerUntrusted, "SSH signature by " + sig->key.Fingerprint() +
                                                             " (" + sig->key.type() + "): " + found.why_not);
    return v;
  }
  if (!v.signer.contains("principal")) v.signer["principal"] = found.signer->principals;
  v.signer["identity"] = v.signer["principal"];
  v.signer["allowed_signers"] = trust.signers->source() + ":" + std::to_string(found.signer->line);
  v.signer["verified"] = true;
  return v;
}

}  // namespace bg

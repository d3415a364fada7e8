#include "agent/git/commit_signature.h"

#include <git2/buffer.h>
#include <git2/commit.h>
#include <git2/errors.h>

#include "agent/git/git_handles.h"
#include "agent/git/git_status.h"
#include "agent/signature/sshsig.h"

namespace bg {
namespace {

constexpr const char* kGitNamespace = "git";

struct Buf {
  git_buf buf = GIT_BUF_INIT;
  ~Buf() { git_buf_dispose(&buf); }
  std::string_view view() const { return {buf.ptr ? buf.ptr : "", buf.size}; }
};

CommitSignature Finding(Reason reason, std::string detail, std::string state) {
  CommitSignature out;
  out.reason = reason;
  out.detail = std::move(detail);
  out.details["signature"] = std::move(state);
  return out;
}

}  // namespace

Result<CommitSignature> VerifyCommitSignature(git_repository* repo, const git_oid& commit,
                                              const AllowedSigners& signers) {
  const std::string id = git_oid_tostr_s(&commit);
  const std::string short_id = id.substr(0, 12);
  Buf signature, signed_data;
  git_oid oid = commit;
  const int rc = git_commit_extract_signature(&signature.buf, &signed_data.buf, repo, &oid, nullptr);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return Finding(Reason::kCommitUnsigned,
                   "commit " + short_id + " is not signed (require_signed_commit = true)", "none");
  }
  BG_RETURN_IF_ERROR(GitStatus(rc, "reading the signature of commit " + id));

  const std::string_view armored = signature.view();
  if (armored.rfind(kSshSignatureBegin, 0) != 0) {
    const bool pgp = armored.rfind("-----BEGIN PGP", 0) == 0;
    return Finding(Reason::kCommitSignerUntrusted,
                   "commit " + short_id + " is signed with " + (pgp ? "OpenPGP" : "an unknown format") +
                       "; only SSH signatures (gpg.format = ssh) are verified",
                   pgp ? "openpgp" : "unknown-format");
  }
  auto sig = ParseArmoredSshSignature(armored);
  if (!sig.ok()) {
    return Finding(Reason::kCommitSignerUntrusted,
                   "commit " + short_id + ": its signature is malformed: " + sig.status().message(),
                   "invalid");
  }
  Json signer = {{"key", sig->key.Fingerprint()}, {"key_type", sig->key.type()},
                 {"namespace", sig->sig_namespace}};
  const Status verified = VerifySshSignature(*sig, signed_data.view(), kGitNamespace);
  if (!verified.ok()) {
    CommitSignature out = Finding(
        Reason::kCommitSignerUntrusted,
        "commit " + short_id + ": the signature does not verify (the commit object was changed "
                               "after signing, or the signature is corrupt): " + verified.message(),
        "invalid");
    out.details["signer"] = signer;
    return out;
  }
  git_commit* raw = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_commit_lookup(&raw, repo, &commit), "looking up commit " + id));
  CommitPtr object(raw);
  const git_signature* committer = git_commit_committer(object.get());
  const std::int64_t when = committer != nullptr ? committer->when.time : 0;
  const SignerLookup found = signers.Find(sig->key, kGitNamespace, when);
  signer["verified_at"] = FormatUtc(when);
  if (found.signer == nullptr) {
    CommitSignature out = Finding(Reason::kCommitSignerUntrusted,
                                  "commit " + short_id + " is signed by " + sig->key.Fingerprint() +
                                      ", not trusted: " + found.why_not,
                                  "untrusted");
    out.details["signer"] = signer;
    return out;
  }
  signer["principal"] = found.signer->principals;
  signer["allowed_signers"] = signers.source() + ":" + std::to_string(found.signer->line);
  CommitSignature out;
  out.detail = "signed by " + found.signer->principals + " (" + sig->key.Fingerprint() + ")";
  out.details["signature"] = "verified";
  out.details["signer"] = signer;
  return out;
}

}  // namespace bg

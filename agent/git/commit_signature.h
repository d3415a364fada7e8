// VerifyCommitSignature: is the training commit signed by a trusted SSH key, as
// `git verify-commit` (gpg.format = ssh, gpg.ssh.allowedSignersFile) would say?
//
// libgit2's git_commit_extract_signature splits the commit object into its gpgsig header (the
// signature) and everything else (what was signed); the SSHSIG is then verified with our own
// code (agent/signature) in namespace "git", and its key looked up in allowed_signers at the
// commit's committer time, as git passes -Overify-time=<committer date> to ssh-keygen. (That time
// is written by the signer: a key's valid-before stops new commits only from honest signers; to
// revoke a leaked key, remove its line.)
//
//   commit-unsigned          no gpgsig header
//   commit-signer-untrusted  signed, but not by a key allowed_signers trusts for "git" at that
//                            time; or signed with OpenPGP/X.509 (only SSH signatures are
//                            verified); or the signature does not verify: the commit object was
//                            changed after signing, or the signature is corrupt. SPEC.md has no
//                            code for a broken signature, and "not signed by anyone we trust" is
//                            what it means; details.signature says "invalid" for that case.
// An object that cannot be read is an operational error.
//
// Thread safety: uses only `repo`, which belongs to the calling thread, and `signers`.
#pragma once

#include <git2/oid.h>
#include <git2/repository.h>

#include <string>

#include "agent/core/json.h"
#include "agent/core/reason.h"
#include "agent/core/status.h"
#include "agent/signature/allowed_signers.h"

namespace bg {

struct CommitSignature {
  Reason reason = Reason::kNone;  // kNone: signed by a trusted key
  std::string detail;             // one line
  Json details = Json::object();  // {"signature": "verified"|"none"|"invalid"|"untrusted"|..., "signer": {...}}
};

Result<CommitSignature> VerifyCommitSignature(git_repository* repo, const git_oid& commit,
                                              const AllowedSigners& signers);

}  // namespace bg

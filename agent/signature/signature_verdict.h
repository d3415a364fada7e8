// SignatureVerdict: what verifying one signature file found.
//
// `status` is ok, or a rejection with the reason of SPEC.md's signature family:
//   signature-invalid  the file is malformed, the signature does not verify, or what it signs is
//                      not what is in the bundle (a file modified, added or removed since);
//   signer-untrusted   the signature is sound but its key or certificate is not trusted (not
//                      configured, not allowed for the namespace or at this time, a chain to an
//                      unknown root, an expired certificate).
// (signature-missing, no signature at all, is the check's to say.) Anything else is an
// operational error (Reason::kNone): the verifier could not run.
//
// `signer` describes the signer as far as it is known, verified or not ("verified": false for a
// rejected one), with "identity": the one line a reader wants (principal, certificate subject or
// key fingerprint); it goes into the check's details, the audit record and REJECTED.json.
//
// Thread safety: plain data.
#pragma once

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct SignatureVerdict {
  Status status;
  Json signer = Json::object();
  Json details = Json::object();

  bool ok() const { return status.ok(); }
};

}  // namespace bg

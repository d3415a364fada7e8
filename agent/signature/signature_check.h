// The "signature" check: who made this bundle, verified offline before anything loads it.
//
// A bundle may carry model.sig (OpenSSF model signing: a Sigstore bundle over an in-toto
// statement listing every file's digest) and bundle.toml.sig (an SSHSIG over bundle.toml, which
// lists every file's size and hash). Each one present, of a configured format, is verified
// (signature_check_options.h says against what), and every one must pass: a bad signature is
// never outvoted by a good one. What a passing signature proves is the whole bundle:
//   model.sig       its resources are exactly the bundle's files, bundle.toml among them;
//   bundle.toml.sig bundle.toml's bytes are signed;
// and, for both, the files are exactly what the signed bundle.toml's [[files]] says (the
// integrity comparison, repeated here so that this check alone vouches for every byte a later
// check or plugin reads, ignore paths included).
// Either way bundle.toml must be the very bytes the manifest was parsed from.
//
//   signature-missing  no signature file of a configured format (with required = true)
//   signature-invalid  malformed, not verifying, or the bundle is not what was signed
//   signer-untrusted   sound, but the key or certificate is not trusted here
// The check is a gate (Check::gates_pipeline): when it fails, no check after it runs, so no
// plugin loads a model nobody trusted; the registry requires it to be the first [[checks]]
// entry. details.signer (also the report's, the audit record's and REJECTED.json's "signer")
// names who signed, verified or claimed; details.signatures has every file's verdict.
//
// Thread safety: immutable after construction; Run may be called from several workers at once.
#pragma once

#include <memory>

#include "agent/checks/check.h"
#include "agent/checks/check_registry.h"
#include "agent/toml/table_reader.h"

namespace bg {

std::unique_ptr<Check> MakeSignatureCheck(TableReader& options, const CheckBuildContext& ctx);

}  // namespace bg

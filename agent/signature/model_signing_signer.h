// The producer side of model_signing's key and certificate methods, for `bundlegate signature
// sign`: model.sig for a set of hashed files, in the format `model_signing sign key` and
// `sign certificate` write (1.1 and later): resources sorted as model_signing sorts them, the
// subject digest over them, DSSE's PAE signed with ECDSA hashed by the curve's size, a Sigstore
// v0.3 bundle with the key's hint or the certificate chain.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/status.h"
#include "agent/signature/crypto.h"

namespace bg {

struct ModelSigningRequest {
  std::string subject_name;                 // the model directory's name
  std::vector<WalkedFile> files;            // relative paths with their sha256
  std::vector<std::string> ignore_paths;    // recorded in serialization.ignore_paths
  const PrivateKey* key = nullptr;          // ECDSA P-256/P-384/P-521
  std::vector<std::string> certificates;    // DER, signing certificate first; empty: key method
};

// model.sig's JSON text.
Result<std::string> SignModel(const ModelSigningRequest& request);

}  // namespace bg

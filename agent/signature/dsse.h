// DSSE (Dead Simple Signing Envelope, secure-systems-lab/dsse v1.0): what is signed is not the
// payload itself but its pre-authentication encoding, which binds the payload type:
//
//   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
//
// with LEN the byte length in ASCII decimal, no leading zeros. model_signing (1.0 and later)
// signs PAE("application/vnd.in-toto+json", statement JSON) with ECDSA.
//
// Thread safety: pure functions and plain data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bg {

inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

std::string DssePae(std::string_view payload_type, std::string_view payload);

struct DsseSignature {
  std::string keyid;  // may be empty
  std::string sig;    // decoded bytes (DER ECDSA for model_signing)
};

struct DsseEnvelope {
  std::string payload_type;
  std::string payload;  // decoded bytes
  std::vector<DsseSignature> signatures;
};

}  // namespace bg

// libFuzzer harness: armored SSHSIG text (bundle.toml.sig, a commit's gpgsig header) through the
// strict dearmor, the blob parser and, when it parses, the verifier. Nothing may crash, hang or
// read out of bounds, whatever the bytes; a parsed signature never verifies over other data.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/signature/sshsig.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto armored = bg::ParseArmoredSshSignature(text);
  if (armored.ok()) (void)bg::VerifySshSignature(*armored, text, "bundlegate");
  // The raw blob too, so the fuzzer reaches the field parser without learning base64.
  auto blob = bg::ParseSshSignatureBlob(text);
  if (blob.ok()) {
    (void)blob->key.Fingerprint();
    (void)bg::VerifySshSignature(*blob, "message", blob->sig_namespace);
  }
  return 0;
}

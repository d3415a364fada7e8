// libFuzzer harness: model.sig (a Sigstore bundle's JSON) through the bounded, strict bundle
// parser, then its payload through the in-toto statement parser and the subject digest, and the
// whole verifier with a fixed trusted key (which the input cannot satisfy, but every path before
// the signature check and the resource comparison is reached).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/signature/in_toto_statement.h"
#include "agent/signature/model_signing_verifier.h"
#include "agent/signature/sigstore_bundle.h"

namespace {

const bg::TrustedKeys& Keys() {
  // A fixed P-256 public key (not secret: the fuzzer only ever fails against it).
  static const bg::TrustedKeys keys = *bg::TrustedKeys::FromPem(
      "-----BEGIN PUBLIC KEY-----\n"
      "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAERWHRHZQIYzdph9JoQY39UcO3Ij3t\n"
      "tuaoUABl0cJ3TtJnvOebEFVg91B9zr+uh0p7ZY6EqlvavrhSqW0TYxgydA==\n"
      "-----END PUBLIC KEY-----\n",
      "fuzz");
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bundle = bg::ParseSigstoreBundle(text);
  if (bundle.ok()) {
    auto statement = bg::ParseModelSigningStatement(bundle->envelope.payload);
    if (statement.ok()) (void)bg::ModelSigningSubjectDigest(statement->resources);
  }
  // The payload parser on the raw input as well: it is the larger surface.
  auto statement = bg::ParseModelSigningStatement(text);
  if (statement.ok()) {
    std::vector<bg::WalkedFile> files = {{"bundle.toml", 10, std::string(64, 'a')}};
    (void)bg::CompareResources(*statement, files, bg::ResourcePolicy{});
  }
  bg::ModelSigningTrust trust{&Keys(), nullptr};
  (void)bg::VerifyModelSignature(text, trust, {}, bg::ResourcePolicy{}, 1767225600);
  return 0;
}

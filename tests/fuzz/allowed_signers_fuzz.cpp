// libFuzzer harness: allowed_signers text through the strict parser, and every lookup the check
// makes on what it accepted (principal patterns, namespaces, validity windows).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/signature/allowed_signers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto signers = bg::AllowedSigners::Parse(text, "fuzz");
  if (!signers.ok()) return 0;
  for (const auto& s : signers->signers()) {
    (void)signers->Find(s.key, "bundlegate", 1767225600);
    (void)signers->Find(s.key, "git", 0, "release@acme.com");
    (void)signers->Find(s.key, s.namespaces.value_or("x"), s.valid_after.value_or(0), s.principals);
  }
  return 0;
}

// bundle.toml, as a producer writes it: ParseManifest (TOML, then the manifest's rules).
#include "agent/manifest/manifest.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto manifest = bg::ParseManifest(bg::fuzz::Text(data, size));
  if (manifest.ok()) (void)bg::DumpJson(manifest->ToJson());
  return 0;
}

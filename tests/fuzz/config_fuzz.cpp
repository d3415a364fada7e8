// The agent's config file: ParseConfig (TOML, every section, every [[checks]] table).
#include "agent/config/config.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)bg::ParseConfig(bg::fuzz::Text(data, size), "bundlegate.toml", "/var/lib/bundlegate");
  return 0;
}

// The request a plugin reads on stdin (the SDK's ParseRequest): any plugin, any language, is
// told not to trust it, and the SDK must not either.
#include "plugins/sdk/request.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto request = bg::sdk::ParseRequest(bg::fuzz::Text(data, size));
  if (request.ok()) (void)bg::sdk::DumpJson(request->manifest);
  return 0;
}

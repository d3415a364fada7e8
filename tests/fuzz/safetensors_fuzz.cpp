// Parity data from a producer: SafetensorsFile::Parse (header JSON, then the layout rules).
#include "plugins/sdk/safetensors.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto file = bg::sdk::SafetensorsFile::Parse(std::string(bg::fuzz::Text(data, size)), "x");
  if (file.ok()) {
    for (const auto& t : file->tensors()) {
      bg::fuzz::Require(file->Bytes(t).size() == t.end - t.begin, "tensor bytes match offsets");
    }
  }
  return 0;
}

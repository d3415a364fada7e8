// One pickle (data.pkl, constants.pkl, ...): the walker that executes nothing.
#include "plugins/modelscan/pickle_scanner.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bg::modelscan;
  const std::string_view bytes = bg::fuzz::Text(data, size);
  const PickleScan scan = ScanPickle(bytes, PickleAllowlist::TorchScript());
  bg::fuzz::Require(!scan.disallowed_global || !scan.ok(), "a disallowed global is a problem");
  for (const auto& g : scan.globals) {
    bg::fuzz::Require(g.allowed == PickleAllowlist::TorchScript().Allowed(g.module, g.name),
                      "globals are judged by the allowlist");
  }
  const PickleScan trailing = ScanPickle(bytes, PickleAllowlist::Checkpoint(), true);
  bg::fuzz::Require(trailing.length <= size, "length inside the data");
  return 0;
}

// What a plugin prints: its result (ParsePluginReport) and its --describe (ParseDescription).
#include "agent/plugin/describe.h"
#include "agent/plugin/plugin_result.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = bg::fuzz::Text(data, size);
  auto report = bg::ParsePluginReport(text);
  if (report.ok()) (void)bg::DumpJson(report->details);
  (void)bg::ParseDescription(text, "torchscript");
  return 0;
}

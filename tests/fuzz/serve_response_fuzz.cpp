// What a warm worker writes back to the agent (agent/plugin/serve_protocol.h): the stream after
// its hello, fed in chunks whose sizes the input's first byte picks, every response turned into
// the ChildOutcome the agent judges. Nothing may throw or read past a payload's size: the reader
// runs in the agent's event loop. The same bytes are also read as a sandbox spec
// (agent/sandbox/spec_json.h), the worker's parser of what the agent sends it.
#include "agent/plugin/serve_protocol.h"
#include "agent/sandbox/spec_json.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0];
  const std::string_view text = bg::fuzz::Text(data + 1, size - 1);
  bg::ServeReader reader(4096);
  reader.Feed("{\"serve\":1,\"kind\":\"k\",\"pid\":2}\n");
  pid_t pid = 0;
  if (!reader.ReadHello("k", &pid)) __builtin_trap();
  for (std::size_t at = 0; at < text.size(); at += chunk) {
    reader.Feed(text.substr(at, chunk));
    while (auto r = reader.Next()) {
      const bg::ChildOutcome o = bg::OutcomeFromResponse(*r);
      if (o.out.size() > 4096 || o.err_tail.size() > 4096) __builtin_trap();
      (void)bg::DumpJson(o.isolation.ToJson());
    }
    if (!reader.error().empty()) break;
  }
  const bg::Json j = bg::Json::parse(text, nullptr, false);
  bg::sandbox::Spec spec;
  std::string error;
  if (!j.is_discarded() && bg::sandbox::SpecFromJson(j, &spec, &error)) {
    (void)bg::DumpJson(bg::sandbox::SpecToJson(spec));
  }
  return 0;
}

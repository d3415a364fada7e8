// The agent's half of the warm-worker protocol (agent/plugin/serve_protocol.h): frames it writes,
// and what it makes of a worker's answers, including answers a broken or hostile worker could
// give: none may throw (the reader runs in the agent's event loop) or read past its limits.
#include <catch2/catch.hpp>

#include "agent/plugin/serve_protocol.h"
#include "agent/sandbox/spec_json.h"

using namespace bg;

namespace {

std::string Response(const Json& envelope, const std::string& payload = "") {
  return DumpJson(envelope) + "\n" + payload;
}

}  // namespace

TEST_CASE("serve protocol: a frame carries the request, its bundle and the cold run's sandbox") {
  ServeRequest r;
  r.id = 7;
  r.request = "{\"protocol\":1}\n";
  r.bundle_dir = "/srv/root/work/x/bundle";
  r.sandbox.exec_paths = {"/usr"};
  r.sandbox.required = sandbox::LayerSet::Of({sandbox::Layer::kMount});
  r.timeout_ms = 1500;
  r.max_output_bytes = 4096;
  const std::string frame = EncodeServeFrame(r);
  const auto nl = frame.find('\n');
  const Json envelope = Json::parse(frame.substr(0, nl));
  CHECK(envelope["id"] == 7);
  CHECK(envelope["bytes"] == r.request.size());
  CHECK(frame.substr(nl + 1) == r.request);
  sandbox::Spec back;
  std::string error;
  REQUIRE(sandbox::SpecFromJson(envelope["sandbox"], &back, &error));
  CHECK(back.exec_paths == r.sandbox.exec_paths);
  CHECK(back.required == r.sandbox.required);
}

TEST_CASE("serve protocol: responses split anywhere are read whole, payloads by their sizes") {
  ServeReader reader(1 << 20);
  const std::string stream = DumpJson(Json{{"serve", 1}, {"kind", "k"}, {"pid", 9}}) + "\n" +
                             Response({{"id", 1}, {"outcome", "result"}, {"bytes", 4}, {"stderr_bytes", 3},
                                       {"ms", 5.5}, {"isolation", {{"mount", {{"applied", true}}}}}},
                                      "{}\n\nerr") +
                             Response({{"id", 2}, {"outcome", "crashed"}, {"bytes", 0}, {"signal", 11}});
  pid_t pid = 0;
  std::vector<ServeResponse> got;
  bool hello = false;
  for (char c : stream) {  // a byte at a time: the worst split
    reader.Feed(std::string_view(&c, 1));
    if (!hello) {
      hello = reader.ReadHello("k", &pid);
      continue;
    }
    while (auto r = reader.Next()) got.push_back(std::move(*r));
  }
  REQUIRE(reader.error().empty());
  CHECK(pid == 9);
  REQUIRE(got.size() == 2);
  CHECK(got[0].result == "{}\n\n");
  CHECK(got[0].stderr_tail == "err");
  const ChildOutcome first = OutcomeFromResponse(got[0]);
  CHECK(first.out == "{}\n\n");
  CHECK(first.isolation.applied(sandbox::Layer::kMount));
  const ChildOutcome second = OutcomeFromResponse(got[1]);
  CHECK(second.signal == 11);
  CHECK(second.out.empty());
}

TEST_CASE("serve protocol: each outcome means what a cold run's event would") {
  ServeResponse r;
  r.outcome = "timeout";
  CHECK(OutcomeFromResponse(r).timed_out);
  r.outcome = "overflow";
  CHECK(OutcomeFromResponse(r).stdout_overflow);
  r.outcome = "crashed";
  r.exit_code = 3;
  const ChildOutcome exited = OutcomeFromResponse(r);
  CHECK(exited.exited);
  CHECK(exited.exit_code == 3);
  r.outcome = "sandbox-error";
  r.message = "landlock: required";
  CHECK_FALSE(OutcomeFromResponse(r).start_error.ok());
}

TEST_CASE("serve protocol: a broken or hostile worker's answers are errors, never exceptions") {
  const std::vector<std::string> bad = {
      Response({{"id", "one"}, {"outcome", "result"}, {"bytes", 0}}),
      Response({{"id", 1}, {"outcome", "pwned"}, {"bytes", 0}}),
      Response({{"id", 1}, {"outcome", "crashed"}, {"bytes", 10}}, "0123456789"),  // bytes without a result
      Response({{"id", 1}, {"outcome", "result"}, {"bytes", 1 << 30}}),             // over the limit
      Response({{"id", 1}, {"outcome", "result"}, {"bytes", 1}, {"stderr_bytes", -1}}, "x"),
      "[1, 2, 3]\n",
      std::string(70 * 1024, 'x'),  // an envelope line that never ends
  };
  for (const auto& text : bad) {
    INFO(text.substr(0, 120));
    ServeReader reader(1 << 20);
    reader.Feed(text);
    std::optional<ServeResponse> r;
    REQUIRE_NOTHROW(r = reader.Next());
    CHECK_FALSE(r);
    CHECK_FALSE(reader.error().empty());
  }
  // Strange isolation values (the worker forwards its child's setup report as it likes): the
  // layer is simply not applied.
  ServeReader reader(1 << 20);
  reader.Feed(Response({{"id", 1}, {"outcome", "result"}, {"bytes", 2},
                        {"isolation", {{"mount", {{"applied", "yes"}, {"off", 1}, {"why", 5}}},
                                       {"seccomp", "on"}, {"nonsense", {{"applied", true}}}}}},
                       "{}"));
  auto r = reader.Next();
  REQUIRE(r);
  ChildOutcome o;
  REQUIRE_NOTHROW(o = OutcomeFromResponse(*r));
  CHECK_FALSE(o.isolation.applied(sandbox::Layer::kMount));
  CHECK_FALSE(o.isolation.applied(sandbox::Layer::kSeccomp));
}

TEST_CASE("serve protocol: a hello from another kind, or no hello, is refused") {
  ServeReader reader(1 << 20);
  reader.Feed(DumpJson(Json{{"serve", 1}, {"kind", "other"}, {"pid", 3}}) + "\n");
  pid_t pid = 0;
  CHECK_FALSE(reader.ReadHello("torchscript", &pid));
  CHECK_FALSE(reader.error().empty());
}

// The SDK's --serve mode (plugins/sdk/serve.h), the plugin half of a warm worker, driven through
// the SDK test plugin in a real process: every request runs in a fresh child of the worker; a
// crash or a hang is that request's outcome and the next one is served; no state and no bytes
// of one request reach the child of the next.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "plugins/sdk/json.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using bg::sdk::DumpJson;
using bg::sdk::Json;

namespace {

// The bundle every frame names (a real directory: the child enters it).
const std::string& BundleDir() {
  static bg::test::TempDir dir;
  return dir.path();
}

// No layers: these tests are about the worker's mechanics (the sandboxed request child has a
// test of its own below, and the agent's tests run the whole path).
Json Unconfined() { return {{"layers", Json::array()}}; }

std::string Frame(int id, const Json& config, int timeout_ms = 20000, Json sandbox = Unconfined(),
                  std::string bundle_dir = BundleDir(), std::size_t max_output = 1 << 20) {
  const std::string request = DumpJson({{"protocol", 1},
                                        {"bundle_dir", bundle_dir},
                                        {"manifest", Json::object()},
                                        {"config", config}});
  return DumpJson({{"id", id},
                   {"timeout_ms", timeout_ms},
                   {"max_output_bytes", max_output},
                   {"bundle_dir", bundle_dir},
                   {"sandbox", sandbox},
                   {"bytes", request.size()}}) +
         "\n" + request;
}

struct Served {
  Json hello;
  std::vector<Json> envelopes;
  std::vector<Json> results;  // null where there was no result
  std::vector<std::string> tails;  // each child's stdout and stderr, its last 4 KiB
};

// Runs `bg_sdk_test_plugin --serve` with `frames` on stdin and parses everything it answered.
Served Serve(const std::string& frames) {
  bg::test::ProcessOptions options;
  options.stdin_data = frames;
  const auto r = bg::test::RunProcess({BG_SDK_TEST_PLUGIN, "--serve"}, options);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  Served s;
  std::size_t pos = 0;
  auto line = [&] {
    const auto nl = r.out.find('\n', pos);
    REQUIRE(nl != std::string::npos);
    const std::string l = r.out.substr(pos, nl - pos);
    pos = nl + 1;
    return Json::parse(l);
  };
  s.hello = line();
  while (pos < r.out.size()) {
    Json env = line();
    const std::size_t bytes = env.value("bytes", std::size_t{0});
    const std::size_t tail = env.value("stderr_bytes", std::size_t{0});
    REQUIRE(pos + bytes + tail <= r.out.size());
    s.results.push_back(bytes ? Json::parse(r.out.substr(pos, bytes)) : Json());
    s.tails.push_back(r.out.substr(pos + bytes, tail));
    pos += bytes + tail;
    s.envelopes.push_back(std::move(env));
  }
  return s;
}

}  // namespace

TEST_CASE("a serving plugin answers each request from a fresh child of the worker") {
  const Served s = Serve(Frame(1, Json::object()) + Frame(2, Json::object()) + Frame(3, Json::object()));
  REQUIRE(s.hello["serve"] == 1);
  REQUIRE(s.hello["kind"] == "sdk-test");
  REQUIRE(s.envelopes.size() == 3);
  std::vector<int> pids;
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(s.envelopes[i]["id"] == static_cast<int>(i) + 1);
    CHECK(s.envelopes[i]["outcome"] == "result");
    CHECK(s.results[i]["status"] == "pass");
    CHECK(s.results[i]["details"]["ppid"] == s.hello["pid"]);
    pids.push_back(s.results[i]["details"]["pid"].get<int>());
  }
  CHECK(pids[0] != pids[1]);
  CHECK(pids[1] != pids[2]);
  CHECK(pids[0] != s.hello["pid"].get<int>());
}

TEST_CASE("a crashing or hanging request is its own outcome, and the next one is served") {
  bg::test::TempDir dir;
  const std::string pidfile = dir / "grandchild.pid";
  const Served s = Serve(Frame(1, {{"crash", true}}) + Frame(2, {{"hang", true}, {"pidfile", pidfile}}, 500) +
                         Frame(3, {{"throw", "std"}}) + Frame(4, Json::object()));
  REQUIRE(s.envelopes.size() == 4);
  CHECK(s.envelopes[0]["outcome"] == "crashed");
  CHECK(s.envelopes[0]["signal"] == SIGSEGV);
  CHECK(s.envelopes[1]["outcome"] == "timeout");
  CHECK(s.envelopes[2]["outcome"] == "result");
  CHECK(s.results[2]["reason"] == "plugin-error");
  CHECK(s.envelopes[3]["outcome"] == "result");
  CHECK(s.results[3]["status"] == "pass");
  // The hanging child's own child was killed with it (its process group).
  const int grandchild = std::stoi(bg::test::ReadFile(pidfile));
  REQUIRE(grandchild > 0);
  auto dead = [&] {  // gone, or a zombie waiting for whoever inherited it
    if (::kill(grandchild, 0) != 0) return true;
    const std::string stat = bg::test::ReadFile("/proc/" + std::to_string(grandchild) + "/stat");
    const auto paren = stat.rfind(')');
    return paren != std::string::npos && stat.size() > paren + 2 && stat[paren + 2] == 'Z';
  };
  bool gone = false;
  for (int i = 0; i < 1000 && !gone; ++i) {
    gone = dead();
    if (!gone) ::usleep(10000);
  }
  CHECK(gone);
}

TEST_CASE("nothing of one request reaches the child of the next") {
  // State: a global set by one check is unset in the next (each child is a fresh copy of the
  // worker, which never runs a check itself).
  Served s = Serve(Frame(1, {{"remember", true}}) + Frame(2, {{"remember", true}}));
  REQUIRE(s.envelopes.size() == 2);
  CHECK(s.results[0]["details"]["seen"] == false);
  CHECK(s.results[1]["details"]["seen"] == false);

  // Bytes: the first request (and its result, which echoes it) carries a secret of some size;
  // the next child searches all of its memory for it.
  const std::string secret = "SECRET-" + std::string(20000, 'q') + "-7f3a9c";
  const std::string reversed(secret.rbegin(), secret.rend());
  s = Serve(Frame(1, {{"secret", secret}}) + Frame(2, {{"find_reversed", reversed.substr(0, 64)}}) +
            Frame(3, {{"find_reversed", reversed.substr(reversed.size() - 64)}}));
  REQUIRE(s.envelopes.size() == 3);
  REQUIRE(s.results[0]["details"]["secret"] == secret);  // the first child had it
  CHECK(s.results[1]["details"]["found"] == false);
  CHECK(s.results[2]["details"]["found"] == false);
}

TEST_CASE("a request child's output and an oversized result are its own outcome") {
  const std::string big(8000, 'x');
  const Served s = Serve(Frame(1, {{"chatter", true}}) +
                         Frame(2, {{"secret", big}}, 20000, Unconfined(), BundleDir(), 4096) +
                         Frame(3, Json::object()));
  REQUIRE(s.envelopes.size() == 3);
  CHECK(s.envelopes[0]["outcome"] == "result");
  CHECK(s.results[0]["status"] == "pass");
  CHECK_THAT(s.tails[0], Catch::Contains("chatter from printf") && Catch::Contains("chatter from write"));
  CHECK(s.envelopes[1]["outcome"] == "overflow");
  CHECK(s.results[1].is_null());
  CHECK(s.envelopes[2]["outcome"] == "result");
}

TEST_CASE("a request the worker cannot honour is refused, never run with less") {
  // An unknown layer, an unknown key (a newer agent's), a relative bundle path: each is
  // answered sandbox-error without running anything, and the next request is served.
  for (const Json& bad : {Json{{"layers", {"bogus"}}}, Json{{"layers", Json::array()}, {"color", 1}}}) {
    const Served s = Serve(Frame(1, Json::object(), 20000, bad) + Frame(2, Json::object()));
    REQUIRE(s.envelopes.size() == 2);
    CHECK(s.envelopes[0]["outcome"] == "sandbox-error");
    CHECK(s.results[0].is_null());
    CHECK(s.envelopes[1]["outcome"] == "result");
  }
  const Served relative = Serve(Frame(1, Json::object(), 20000, Unconfined(), "relative/dir"));
  REQUIRE(relative.envelopes.size() == 1);
  CHECK(relative.envelopes[0]["outcome"] == "sandbox-error");
  // A frame whose size cannot be read loses the stream: the worker ends, answering nothing.
  const Served broken = Serve("{\"id\": 1}\n" + Frame(2, Json::object()));
  CHECK(broken.envelopes.empty());
}

TEST_CASE("each request child enters the sandbox it is sent, seeing its own bundle only") {
  bg::test::TempDir tmp;
  bg::test::WriteFile(tmp / "work/b1/model.pt", "one\n");
  bg::test::WriteFile(tmp / "work/b2/model.pt", "two\n");
  for (const char* d : {"", "/work", "/work/b1", "/work/b2"}) ::chmod((tmp.path() + d).c_str(), 0755);
  const std::string plugin_dir = std::string(BG_SDK_TEST_PLUGIN).substr(0, std::string(BG_SDK_TEST_PLUGIN).rfind('/'));
  Json spec = {{"layers", {"cgroup", "network", "mount", "pid", "user", "rlimit", "landlock", "seccomp"}},
               {"exec_paths", {"/usr", "/lib", "/lib64", "/bin", "/etc", plugin_dir}},
               {"tmp_bytes", 8 << 20}};
  if (::geteuid() == 0) spec["uid"] = spec["gid"] = 65534;
  const Served s = Serve(Frame(1, {{"read", tmp / "work/b2/model.pt"}}, 20000, spec, tmp / "work/b1") +
                         Frame(2, {{"read", tmp / "work/b2/model.pt"}}, 20000, spec, tmp / "work/b2"));
  REQUIRE(s.envelopes.size() == 2);
  INFO(s.envelopes[0].dump() << "\n" << s.tails[0]);
  REQUIRE(s.envelopes[0]["outcome"] == "result");
  CHECK_THAT(s.results[0]["details"]["read"].get<std::string>(), Catch::StartsWith("hidden"));
  REQUIRE(s.envelopes[1]["outcome"] == "result");
  CHECK(s.results[1]["details"]["read"] == "two");
  const Json& isolation = s.envelopes[0]["isolation"];
  for (const char* layer : {"mount", "network", "seccomp", "rlimit"}) {
    INFO(layer);
    CHECK(isolation[layer]["applied"] == true);
  }
  if (isolation["pid"]["applied"] == true) CHECK(s.results[0]["details"]["pid"] == 2);
  CHECK(isolation["cgroup"]["applied"] == false);  // the worker's cgroup holds its children
}

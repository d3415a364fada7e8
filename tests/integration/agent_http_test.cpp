// The agent's HTTP endpoint on the real agent: what each path serves, and how it holds up
// against clients that misbehave (garbage, huge headers, too many connections, requests that
// never finish), a stuck event loop, and a recovery still in progress.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <thread>

#include "tests/support/agent_http.h"
#include "tests/support/agent_process.h"
#include "tests/support/http_client.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/process.h"

using namespace bg::test;
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

BundleSpec Spec(const std::string& version) {
  BundleSpec s;
  s.name = "web-model";
  s.version = version;
  return s;
}

json JsonBody(const std::optional<HttpReply>& r) {
  REQUIRE(r);
  return json::parse(r->body, nullptr, false);
}

// Polls `path` until its body contains `needle`.
bool WaitForBody(const std::string& address, const std::string& path, const std::string& needle,
                 const std::string& extra = "") {
  return WaitUntil([&] {
    auto r = HttpGet(address, path, extra);
    return r && r->body.find(needle) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("/metrics /healthz /readyz /status and 404 405 HEAD keep-alive") {
  AgentRoot root("", TestHttpTable());
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());
  CHECK(address.rfind("127.0.0.1:", 0) == 0);

  root.Drop("good", Spec("1.0.0"));
  BundleSpec bad = Spec("2.0.0");
  bad.unlisted_files["stowaway.bin"] = "x";
  root.Drop("bad", bad);
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("good")).size() == 1);
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("bad")).size() == 1);

  // The Prometheus text format by default.
  REQUIRE(WaitForBody(address, "/metrics", "bundlegate_decisions_total{outcome=\"rejected\",reason=\"unlisted-file\"} 1"));
  auto text = HttpGet(address, "/metrics");
  REQUIRE(text);
  CHECK(text->status == 200);
  CHECK(text->headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8");
  CHECK_THAT(text->body, Catch::Contains("bundlegate_decisions_total{outcome=\"promoted\",reason=\"none\"} 1\n"));
  CHECK_THAT(text->body, Catch::Contains("# TYPE bundlegate_check_duration_seconds histogram\n"));
  CHECK_THAT(text->body, Catch::Contains("bundlegate_check_duration_seconds_count{kind=\"integrity\"} 2\n"));
  CHECK_THAT(text->body, Catch::Contains("bundlegate_inbox_to_decision_seconds_count 2\n"));
  CHECK_THAT(text->body, Catch::Contains("bundlegate_state{bundlegate_state=\"running\"} 1\n"));
  CHECK_THAT(text->body, Catch::Contains("bundlegate_bundles{stage=\"in_work\"} 0\n"));
  CHECK_THAT(text->body, Catch::Contains("bundlegate_audit_append_failures_total 0\n"));
  CHECK_THAT(text->body, Catch::Contains("bundlegate_build_info{version=\""));
  CHECK_THAT(text->body, Catch::Contains("process_cpu_seconds_total "));
  CHECK(text->body.find("# EOF") == std::string::npos);
  // serving/ is listed off the loop after a promotion: it shows within a few seconds.
  CHECK(WaitForBody(address, "/metrics",
                    "bundlegate_served_current_info{model=\"web-model\",version=\"1.0.0\"} 1"));

  // OpenMetrics when asked, as Prometheus asks.
  auto om = HttpGet(address, "/metrics",
                    "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n");
  REQUIRE(om);
  CHECK(om->headers["content-type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8");
  CHECK_THAT(om->body, Catch::Contains("# TYPE bundlegate_decisions counter\n"));
  CHECK_THAT(om->body, Catch::Contains("# UNIT bundlegate_check_duration_seconds seconds\n"));
  CHECK_THAT(om->body, Catch::Contains("# TYPE bundlegate_state stateset\n"));
  CHECK_THAT(om->body, Catch::Contains("# TYPE bundlegate_build info\n"));
  CHECK_THAT(om->body, Catch::EndsWith("# EOF\n"));

  auto health = HttpGet(address, "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->headers["content-type"] == "application/json");
  CHECK(JsonBody(health)["healthy"] == true);

  auto ready = HttpGet(address, "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  const json readiness = JsonBody(ready);
  CHECK(readiness["ready"] == true);
  std::vector<std::string> names;
  for (const auto& c : readiness["conditions"]) names.push_back(c["name"]);
  CHECK(names == std::vector<std::string>{"recovered", "inbox_watched", "audit_writable", "disk_space",
                                         "nothing_held"});

  // /status: what `bundlegate status --json` prints (its agent part is at most a second older).
  REQUIRE(WaitForIdle(root));
  std::this_thread::sleep_for(milliseconds(1500));
  const json served = JsonBody(HttpGet(address, "/status"));
  const auto cli = RunBundlegate({"status", "--json", "--config", root.config()});
  REQUIRE(cli.exit_code == 0);
  json printed = json::parse(cli.out);
  for (const char* key : {"root", "running", "inbox_entries", "work_entries", "quarantined", "served"}) {
    INFO(key);
    CHECK(served[key] == printed[key]);
  }
  for (const char* key : {"pid", "state", "http", "counts", "workers", "inbox"}) {
    INFO(key);
    CHECK(served["agent"][key] == printed["agent"][key]);
  }
  CHECK(served["agent"]["http"] == address);
  CHECK(served["served"][0]["current"] == "1.0.0");

  auto missing = HttpGet(address, "/nope");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  auto index = HttpGet(address, "/");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK_THAT(index->body, Catch::Contains("/metrics"));
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "BREW"}) {
    INFO(method);
    auto r = HttpGet(address, "/metrics", "Content-Length: 0\r\n", seconds(20), method);
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->headers["allow"] == "GET, HEAD");
  }

  // HEAD, then GET, then a pipelined pair, on one keep-alive connection.
  HttpConnection c(address);
  REQUIRE(c.ok());
  REQUIRE(c.Send("HEAD /metrics HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto head = c.Read(seconds(20), true);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(std::stoul(head->headers["content-length"]) > 1000);
  CHECK(head->body.empty());
  REQUIRE(c.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto second = c.Read(seconds(20));
  REQUIRE(second);
  CHECK(second->status == 200);
  CHECK(JsonBody(second)["healthy"] == true);
  REQUIRE(c.Send("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\nGET /nope HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto third = c.Read(seconds(20));
  auto fourth = c.Read(seconds(20));
  REQUIRE(third);
  REQUIRE(fourth);
  CHECK(third->status == 200);
  CHECK(fourth->status == 404);

  agent.Signal(SIGTERM);
  CHECK(agent.WaitExit() == 0);
}

TEST_CASE("malformed and oversized requests get 400 431 413 and the connection is closed") {
  AgentRoot root("", TestHttpTable("max_header_bytes = 2048\nmax_body_bytes = 100\n"));
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());

  const std::vector<std::pair<std::string, int>> cases = {
      {"GARBAGE\r\n\r\n", 400},
      {"GET /metrics HTTP/9.9\r\n\r\n", 400},
      {"GET metrics HTTP/1.1\r\nHost: t\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400},
      {"GET /metrics HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n", 431},
      {"GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 500\r\n\r\n" + std::string(500, 'b'), 413},
  };
  for (const auto& [request, status] : cases) {
    INFO(request.substr(0, 60));
    HttpConnection c(address);
    REQUIRE(c.ok());
    REQUIRE(c.Send(request));
    auto r = c.Read(seconds(20));
    REQUIRE(r);
    CHECK(r->status == status);
    CHECK(r->headers["connection"] == "close");
    CHECK(c.WaitClosed(seconds(20)));
  }
  // Still serving, and it counted them.
  auto metrics = HttpGet(address, "/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK_THAT(metrics->body, Catch::Contains("bundlegate_http_responses_total{code=\"400\"} 5\n"));
  CHECK_THAT(metrics->body, Catch::Contains("bundlegate_http_responses_total{code=\"431\"} 1\n"));
  CHECK_THAT(metrics->body, Catch::Contains("bundlegate_http_responses_total{code=\"413\"} 1\n"));
}

TEST_CASE("connections past max_connections are closed at once and idle ones time out") {
  AgentRoot root("", TestHttpTable("max_connections = 4\nidle_timeout_s = 3\n"));
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());

  std::vector<std::unique_ptr<HttpConnection>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<HttpConnection>(address));
    REQUIRE(idle.back()->ok());
  }
  // The fifth is accepted after the four (the listen queue is in order) and refused.
  HttpConnection fifth(address);
  REQUIRE(fifth.ok());
  fifth.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
  auto refused = fifth.Read(seconds(20));
  if (refused) CHECK(refused->status == 503);  // unless the reset came first
  CHECK(fifth.WaitClosed(seconds(20)));

  // Idle connections are closed by idle_timeout_s; then there is room again.
  for (auto& c : idle) CHECK(c->WaitClosed(seconds(30)));
  std::optional<HttpReply> served;
  CHECK(WaitUntil([&] {
    served = HttpGet(address, "/metrics");
    return served && served->status == 200;
  }));
  REQUIRE(served);
  CHECK_THAT(served->body, Catch::Contains("bundlegate_http_connections_refused_total 1\n"));
  CHECK_THAT(served->body, Catch::Contains("bundlegate_http_deadline_closes_total 4\n"));
}

TEST_CASE("a client that never finishes its request is cut off and others are served meanwhile") {
  AgentRoot root("", TestHttpTable("request_timeout_s = 2\nidle_timeout_s = 30\n"));
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());

  // Slowloris: a header line every 200 ms, forever; the deadline runs from the first byte.
  HttpConnection slow(address);
  REQUIRE(slow.ok());
  REQUIRE(slow.Send("GET /metrics HTTP/1.1\r\n"));
  const auto start = std::chrono::steady_clock::now();
  bool cut_off = false;
  int served_meanwhile = 0;
  for (int i = 0; i < 150 && !cut_off; ++i) {
    slow.Send("X-Slow-" + std::to_string(i) + ": a\r\n");
    if (i % 3 == 0) {
      auto other = HttpGet(address, "/healthz", "", seconds(10));
      if (other && other->status == 200) ++served_meanwhile;
    }
    cut_off = slow.WaitClosed(milliseconds(200));
  }
  INFO("dribbled for " << std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() << " s");
  CHECK(cut_off);  // by the 2 s deadline, long before the 150 lines (30 s and more) were sent
  CHECK(served_meanwhile >= 1);

  // A request that stops half-way is closed by the deadline too.
  HttpConnection stuck(address);
  REQUIRE(stuck.ok());
  REQUIRE(stuck.Send("GET /metrics HTTP/1.1\r\nHost: t\r\n"));
  CHECK(stuck.WaitClosed(seconds(30)));
  // A client that reads nothing of a large response does not hold the server either.
  auto fine = HttpGet(address, "/healthz");
  REQUIRE(fine);
  CHECK(fine->status == 200);
}

TEST_CASE("/healthz is 503 while the event loop is stuck and 200 again after") {
  AgentRoot root("", TestHttpTable("liveness_timeout_s = 1\n"));
  AgentProcess agent(root, {{"BUNDLEGATE_TEST_STALL_LOOP_S", "6"}});
  REQUIRE(agent.WaitReady());
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());
  auto before = HttpGet(address, "/healthz");
  REQUIRE(before);
  REQUIRE(before->status == 200);

  agent.Signal(SIGUSR2);  // the test hook: the loop sleeps 6 s
  json unhealthy;
  REQUIRE(WaitUntil([&] {
    auto r = HttpGet(address, "/healthz", "", seconds(5));
    if (!r || r->status != 503) return false;
    unhealthy = json::parse(r->body, nullptr, false);
    return true;
  }, seconds(20)));
  CHECK(unhealthy["healthy"] == false);
  CHECK_THAT(unhealthy["why"].get<std::string>(), Catch::Contains("has not answered"));
  // What needs the loop is answered for it: 503, not a hung connection.
  auto metrics = HttpGet(address, "/metrics", "", seconds(20));
  REQUIRE(metrics);
  CHECK(metrics->status == 503);

  REQUIRE(WaitUntil([&] {
    auto r = HttpGet(address, "/healthz", "", seconds(5));
    return r && r->status == 200;
  }, seconds(30)));
  auto after = HttpGet(address, "/metrics");
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(agent.running());
}

TEST_CASE("/readyz is 503 until recovery is done while /healthz stays 200") {
  AgentRoot root("", TestHttpTable());
  {
    // Leave a decided but unfinished bundle in work/ for the next agent to recover.
    AgentProcess first(root, {{"BUNDLEGATE_CRASH_AT", "decide.after-record"}});
    REQUIRE(first.WaitReady());
    root.Drop("crashed", Spec("3.0.0"));
    REQUIRE(first.WaitExit(seconds(60)).has_value());
  }
  REQUIRE(Locate(root, "crashed", "3.0.0") == std::vector<std::string>{"work"});

  AgentProcess agent(root, {{"BUNDLEGATE_TEST_STALL_RECOVERY_S", "8"}});
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());
  auto ready = HttpGet(address, "/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  const json body = JsonBody(ready);
  CHECK(body["ready"] == false);
  CHECK(body["failing"][0] == "recovered");
  auto health = HttpGet(address, "/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto metrics = HttpGet(address, "/metrics");
  REQUIRE(metrics);
  CHECK_THAT(metrics->body, Catch::Contains("bundlegate_state{bundlegate_state=\"recovering\"} 1\n"));
  CHECK_THAT(metrics->body, Catch::Contains("bundlegate_ready_condition{condition=\"recovered\"} 0\n"));

  REQUIRE(agent.WaitReady(seconds(60)));
  REQUIRE(WaitUntil([&] {
    auto r = HttpGet(address, "/readyz");
    return r && r->status == 200;
  }));
  CHECK(WaitForAudit(root.audit_log(), DecisionFor("crashed")).size() == 1);
  CHECK(Locate(root, "crashed", "3.0.0") == std::vector<std::string>{"serving"});
  CHECK(VerifyAudit(root) == 0);
}

TEST_CASE("a unix socket endpoint: mode 0660 a stale socket replaced removed at stop") {
  AgentRoot root;
  const std::string sock = root.tmp() / "http.sock";
  {  // a socket file nobody listens on any more
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, sock.c_str());
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  root.WriteConfig("", "[http]\nlisten = \"unix:" + sock + "\"\n");
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  REQUIRE(WaitForHttpAddress(agent) == "unix:" + sock);
  struct stat st {};
  REQUIRE(::stat(sock.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0660);
  auto r = HttpGet("unix:" + sock, "/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);

  // A second agent on another root cannot take a socket that answers.
  AgentRoot other("", "[http]\nlisten = \"unix:" + sock + "\"\n");
  ProcessOptions quick;
  quick.timeout_s = 60;
  const auto refused = RunBundlegate({"run", "--config", other.config()}, quick);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("another process is listening"));

  agent.Signal(SIGTERM);
  REQUIRE(agent.WaitExit() == 0);
  CHECK_FALSE(fs::exists(fs::symlink_status(sock)));
}

TEST_CASE("an address that cannot be bound stops the start with exit 2") {
  LoopbackListener taken;
  AgentRoot root("", "[http]\nlisten = \"127.0.0.1:" + std::to_string(taken.port()) + "\"\n");
  ProcessOptions quick;
  quick.timeout_s = 60;
  const auto r = RunBundlegate({"run", "--config", root.config()}, quick);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(taken.port())));
  for (const auto& record : ReadAudit(root.audit_log())) CHECK(record["event"] != "started");
}

// The agent against the real tools: a Prometheus server (Debian's) scraping the real agent every
// second, a decision count read back through Prometheus' query API; `promtool check metrics` on
// the text format, without a single complaint; the OpenMetrics body through a strict parser.
// Prometheus listens on 127.0.0.1 and scrapes only the agent on 127.0.0.1.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>

#include "tests/support/agent_http.h"
#include "tests/support/agent_process.h"
#include "tests/support/http_client.h"
#include "tests/support/loopback_listener.h"
#include "tests/support/process.h"

using namespace bg::test;
using std::chrono::seconds;

namespace {

std::string FindProgram(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::string path = std::string(dir) + "/" + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '-' || c == '.') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// A Prometheus server of its own: config, storage and log in the test's temp dir.
class PrometheusServer {
 public:
  PrometheusServer(const TempDir& tmp, const std::string& target) {
    const std::string binary = FindProgram("prometheus");
    REQUIRE_FALSE(binary.empty());  // scripts/bootstrap installs Debian's prometheus
    const std::string config = tmp / "prometheus.yml";
    WriteFile(config,
              "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
              "scrape_configs:\n  - job_name: bundlegate\n    static_configs:\n"
              "      - targets: ['" + target + "']\n");
    for (int attempt = 0; attempt < 5 && pid_ < 0; ++attempt) {
      int port = 0;
      {
        LoopbackListener probe;  // a free port, released for Prometheus to take
        port = probe.port();
      }
      address_ = "127.0.0.1:" + std::to_string(port);
      const std::string log = tmp / ("prometheus-" + std::to_string(attempt) + ".log");
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        const std::string config_flag = "--config.file=" + config;
        const std::string storage_flag = "--storage.tsdb.path=" + std::string(tmp / "tsdb");
        const std::string listen_flag = "--web.listen-address=" + address_;
        ::execl(binary.c_str(), binary.c_str(), config_flag.c_str(), storage_flag.c_str(),
                listen_flag.c_str(), "--log.level=warn", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      pid_ = pid;
      const bool up = WaitUntil([&] {
        auto r = HttpGet(address_, "/-/ready", "", seconds(2));
        return (r && r->status == 200) || ::waitpid(pid_, nullptr, WNOHANG) == pid_;
      }, seconds(60));
      auto r = HttpGet(address_, "/-/ready", "", seconds(2));
      if (!up || !r || r->status != 200) {
        WARN("prometheus did not start on " << address_ << ":\n" << ReadFile(log));
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
      }
    }
    REQUIRE(pid_ > 0);
  }
  ~PrometheusServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (!WaitUntil([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; }, seconds(20))) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
      }
    }
  }

  json Api(const std::string& path_and_query) {
    auto r = HttpGet(address_, path_and_query, "", seconds(10));
    if (!r || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }
  // The value of an instant query that yields one series, or nullopt.
  std::optional<double> Query(const std::string& promql) {
    const json j = Api("/api/v1/query?query=" + UrlEncode(promql));
    if (!j.is_object() || j.value("status", "") != "success") return std::nullopt;
    const json& result = j["data"]["result"];
    if (!result.is_array() || result.size() != 1) return std::nullopt;
    return std::stod(result[0]["value"][1].get<std::string>());
  }

 private:
  std::string address_;
  pid_t pid_ = -1;
};

BundleSpec Spec(const std::string& version) {
  BundleSpec s;
  s.name = "prom-model";
  s.version = version;
  return s;
}

}  // namespace

TEST_CASE("a real Prometheus scrapes the agent and counts its decisions") {
  AgentRoot root("", TestHttpTable());
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string target = WaitForHttpAddress(agent);
  REQUIRE(target.rfind("127.0.0.1:", 0) == 0);
  PrometheusServer prometheus(root.tmp(), target);

  for (int i = 1; i <= 3; ++i) root.Drop("good-" + std::to_string(i), Spec(std::to_string(i) + ".0"));
  for (int i = 1; i <= 2; ++i) {
    BundleSpec bad = Spec("9." + std::to_string(i));
    bad.unlisted_files["stowaway"] = "x";
    root.Drop("bad-" + std::to_string(i), bad);
  }
  REQUIRE(WaitForAudit(root.audit_log(), [](const json& r) {
            return r.value("event", "") == "promoted" || r.value("event", "") == "rejected";
          }, 5).size() == 5);

  // Read back through Prometheus' own query API, once a scrape after the decisions came in.
  std::optional<double> promoted, rejected;
  CHECK(WaitUntil([&] {
    promoted = prometheus.Query("sum(bundlegate_decisions_total{job=\"bundlegate\",outcome=\"promoted\"})");
    rejected = prometheus.Query("bundlegate_decisions_total{outcome=\"rejected\",reason=\"unlisted-file\"}");
    return promoted == 3.0 && rejected == 2.0;
  }, seconds(90)));
  CHECK(promoted == 3.0);
  CHECK(rejected == 2.0);
  CHECK(prometheus.Query("up{job=\"bundlegate\"}") == 1.0);
  CHECK(prometheus.Query("bundlegate_state{bundlegate_state=\"running\"}") == 1.0);
  CHECK(prometheus.Query("bundlegate_served_versions{model=\"prom-model\"}") == 3.0);
  CHECK(prometheus.Query("histogram_quantile(0.5, sum by (le) (bundlegate_inbox_to_decision_seconds_bucket)) > 0") .has_value());

  // The scrape itself was clean, in OpenMetrics (Prometheus asks for it first; units exist only
  // there).
  const json targets = prometheus.Api("/api/v1/targets");
  REQUIRE(targets.is_object());
  const json& active = targets["data"]["activeTargets"];
  REQUIRE(active.size() == 1);
  CHECK(active[0]["health"] == "up");
  CHECK(active[0]["lastError"] == "");
  CHECK(active[0]["scrapeUrl"] == "http://" + target + "/metrics");
  const json metadata = prometheus.Api("/api/v1/metadata?metric=bundlegate_check_duration_seconds");
  REQUIRE(metadata.is_object());
  REQUIRE(metadata["data"]["bundlegate_check_duration_seconds"].is_array());
  const json& meta = metadata["data"]["bundlegate_check_duration_seconds"][0];
  CHECK(meta["type"] == "histogram");
  CHECK(meta["unit"] == "seconds");
}

TEST_CASE("promtool check metrics finds nothing to say and OpenMetrics parses strictly") {
  AgentRoot root("", TestHttpTable());
  AgentProcess agent(root);
  REQUIRE(agent.WaitReady());
  const std::string address = WaitForHttpAddress(agent);
  REQUIRE_FALSE(address.empty());
  root.Drop("one", Spec("1.0"));
  BundleSpec bad = Spec("2.0");
  bad.unlisted_files["stowaway"] = "x";
  root.Drop("two", bad);
  REQUIRE(WaitForAudit(root.audit_log(), DecisionFor("two")).size() == 1);
  REQUIRE(WaitUntil([&] {
    auto r = HttpGet(address, "/metrics");
    return r && r->body.find("bundlegate_served_current_info{") != std::string::npos;
  }));

  auto text = HttpGet(address, "/metrics");
  REQUIRE(text);
  const std::string promtool = FindProgram("promtool");
  REQUIRE_FALSE(promtool.empty());  // Debian's prometheus package has it
  ProcessOptions with_body;
  with_body.stdin_data = text->body;
  const auto lint = RunProcess({promtool, "check", "metrics"}, with_body);
  INFO("promtool said:\n" << lint.out << lint.err);
  CHECK(lint.exit_code == 0);
  CHECK(lint.out.empty());
  CHECK(lint.err.empty());

  auto om = HttpGet(address, "/metrics", "Accept: application/openmetrics-text; version=1.0.0\r\n");
  REQUIRE(om);
  ProcessOptions with_om;
  with_om.stdin_data = om->body;
  // prometheus_client's OpenMetrics parser rejects any deviation from the spec's grammar
  // (suffixes, UNIT, EOF, label escaping, histogram buckets).
  const auto parsed = RunProcess(
      {SystemPython(), "-c",
       "import sys\n"
       "from prometheus_client.openmetrics.parser import text_string_to_metric_families as p\n"
       "families = list(p(sys.stdin.read()))\n"
       "names = {f.name: f.type for f in families}\n"
       "assert names['bundlegate_decisions'] == 'counter', names\n"
       "assert names['bundlegate_check_duration_seconds'] == 'histogram', names\n"
       "assert names['bundlegate_state'] == 'stateset', names\n"
       "assert names['bundlegate_build'] == 'info', names\n"
       "print(len(families))\n"},
      with_om);
  INFO("parser said:\n" << parsed.out << parsed.err);
  CHECK(parsed.exit_code == 0);
  CHECK(std::stoi(parsed.out.empty() ? "0" : parsed.out) > 20);
}

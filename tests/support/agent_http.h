// Finding the real agent's HTTP endpoint in tests: the agent logs where it listens
// ("http: ... on 127.0.0.1:41234") before recovery starts, so a test can reach it even while
// recovery is held up.
#pragma once

#include <regex>
#include <string>

#include "tests/support/agent_process.h"

namespace bg::test {

// The address the agent listens on, from its log; "" when it did not say within `timeout`.
inline std::string WaitForHttpAddress(AgentProcess& agent, Millis timeout = Millis(30000)) {
  static const std::regex kLine("http: /metrics, /healthz, /readyz and /status on (\\S+)");
  std::string address;
  WaitUntil([&] {
    std::smatch m;
    const std::string log = agent.Log();
    if (std::regex_search(log, m, kLine)) address = m[1];
    return !address.empty() || !agent.running();
  }, timeout);
  return address;
}

// The [http] table tests use: an ephemeral loopback port and short limits.
inline std::string TestHttpTable(const std::string& extra = "") {
  return "[http]\nlisten = \"127.0.0.1:0\"\n" + extra + "\n";
}

}  // namespace bg::test

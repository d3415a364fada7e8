// A minimal plugin built on the SDK, for plugin_sdk_test.cpp: its check does what the request's
// config says, to exercise the SDK's exception barrier and stdout guard in a real process.
//   {"chatter": true}   print to stdout (std::cout, printf, write(1)) before answering
//   {"throw": "std"}    throw a std::runtime_error;  {"throw": "int"}: throw an int
//   {"crash": true}     die by SIGSEGV;  {"hang": true}: sleep forever, with a grandchild whose
//                       pid goes to config "pidfile" (for --serve's timeout)
//   {"remember": true}  set a process global; details.seen says whether it was already set
//   {"find_reversed": S} search this process's readable memory for S reversed (compared on the
//                       fly, so the needle itself never exists here); details.found
//   {"read": P}         details.read: the first line of file P, or "hidden: <errno name>"
//   {"slow": true}      sleep 4 s, then pass (for killing a warm worker mid-check)
//   otherwise           pass, echoing bundle_dir (and "secret", if given) in details, with the
//                       process's pid and parent's pid
//   {"reject": true}    fail with reason parity-mismatch (details as for a pass)
// "crash", "hang", "slow" and "reject" are also chosen by the bundle's manifest name, so that
// the agent's tests can pick a behaviour per bundle under one [[checks]] table (and read the
// runner's details in REJECTED.json).
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>
#include <iostream>
#include <stdexcept>

#include "plugins/sdk/plugin_main.h"

namespace {

bool g_remembered = false;

// Whether `reversed`, read backwards, occurs in any readable mapping of this process.
bool FindReversed(const std::string& reversed) {
  if (reversed.empty()) return false;
  std::ifstream maps("/proc/self/maps");
  const int mem = ::open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
  if (mem < 0) return false;
  std::string line;
  std::vector<char> buf;
  const std::size_t n = reversed.size();
  while (std::getline(maps, line)) {
    std::istringstream in(line);
    std::string range, perms;
    in >> range >> perms;
    if (perms.empty() || perms[0] != 'r' || line.find("[vvar") != std::string::npos ||
        line.find("[vsyscall]") != std::string::npos) {
      continue;
    }
    const auto dash = range.find('-');
    const unsigned long begin = std::stoul(range.substr(0, dash), nullptr, 16);
    const unsigned long end = std::stoul(range.substr(dash + 1), nullptr, 16);
    buf.resize(end - begin);
    const ssize_t got = ::pread(mem, buf.data(), buf.size(), static_cast<off_t>(begin));
    if (got <= 0) continue;
    for (std::size_t i = 0; i + n <= static_cast<std::size_t>(got); ++i) {
      std::size_t k = 0;
      while (k < n && buf[i + k] == reversed[n - 1 - k]) ++k;
      if (k == n) {
        ::close(mem);
        return true;
      }
    }
  }
  ::close(mem);
  return false;
}

bg::sdk::PluginResult Check(const bg::sdk::Request& request) {
  std::string name;
  if (request.manifest.contains("name") && request.manifest["name"].is_string()) {
    name = request.manifest["name"].get<std::string>();
  }
  auto wants = [&](const char* what) { return request.config.value(what, false) || name == what; };
  if (wants("crash")) ::raise(SIGSEGV);
  if (wants("slow")) ::sleep(4);
  if (wants("hang")) {
    const pid_t grandchild = ::fork();
    if (grandchild == 0) {
      while (true) ::pause();
    }
    std::ofstream(request.config.value("pidfile", "/dev/null")) << grandchild << "\n";
    while (true) ::pause();
  }
  if (request.config.value("remember", false)) {
    const bool seen = g_remembered;
    g_remembered = true;
    auto r = bg::sdk::PluginResult::Pass("remembered");
    r.details["seen"] = seen;
    return r;
  }
  if (request.config.contains("find_reversed")) {
    auto r = bg::sdk::PluginResult::Pass("searched");
    r.details["found"] = FindReversed(request.config.value("find_reversed", ""));
    return r;
  }
  if (request.config.value("chatter", false)) {
    std::cout << "chatter from std::cout" << std::endl;
    std::printf("chatter from printf\n");
    std::fflush(stdout);
    (void)!::write(STDOUT_FILENO, "chatter from write\n", 19);
  }
  const std::string what = request.config.value("throw", "");
  if (what == "std") throw std::runtime_error("boom\nsecond line");
  if (what == "int") throw 42;
  auto result = bg::sdk::PluginResult::Pass("ok");
  result.details["bundle_dir"] = request.bundle_dir;
  if (request.config.contains("read")) {
    std::ifstream in(request.config.value("read", ""));
    std::string line;
    const int err = errno;
    if (in && std::getline(in, line)) {
      result.details["read"] = line;
    } else {
      const char* e = ::strerrorname_np(err);
      result.details["read"] = std::string("hidden: ") + (e ? e : "?");
    }
  }
  if (request.config.contains("secret")) result.details["secret"] = request.config["secret"];
  result.details["pid"] = ::getpid();
  result.details["ppid"] = ::getppid();
  result.metrics["answer"] = 42;
  if (wants("reject")) {
    result.status = bg::sdk::Outcome::kFail;
    result.reason = "parity-mismatch";
    result.summary = "rejected on request";
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  bg::sdk::PluginSpec spec;
  spec.kind = "sdk-test";
  spec.version = "1.2.3";
  spec.describe_runtime = [] { return bg::sdk::Json{{"language", "c++"}}; };
  spec.check = Check;
  return bg::sdk::RunPlugin(argc, argv, spec);
}

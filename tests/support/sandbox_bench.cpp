// bg_sandbox_bench [RUNS] [PROGRAM ARGS...]: what the sandbox costs per plugin run, for
// scripts/bench/sandbox_cost.py. For each configuration (no layer; every layer; every layer
// but one, for each layer in turn) it times RUNS runs of PROGRAM (default /bin/true) from
// PreparedSandbox::Prepare to the reaped exit, the configurations interleaved run by run so that
// the machine's noise hits them alike, and prints one JSON object: the median and p90 in
// milliseconds per configuration. As root the payload runs as nobody.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "agent/sandbox/sandbox.h"

namespace sb = bg::sandbox;

namespace {

struct Config {
  std::string name;
  sb::LayerSet layers;
};

double RunOnce(const sb::LayerSet& layers, char** argv) {
  const auto start = std::chrono::steady_clock::now();
  sb::Spec spec;
  spec.layers = layers;
  spec.exec_paths = {"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/sys"};
  if (::geteuid() == 0) spec.uid = spec.gid = 65534;
  spec.address_space_bytes = 8ull << 30;
  std::string error;
  auto sandbox = sb::PreparedSandbox::Prepare(spec, &error);
  if (!sandbox) {
    std::fprintf(stderr, "prepare: %s\n", error.c_str());
    std::exit(1);
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    sb::Report r;
    if (!sandbox->Enter(&r)) ::_exit(127);
    char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
    ::execve(argv[0], argv, envp);
    ::_exit(126);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  sandbox.reset();  // the run directory goes too: part of the cost
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "the payload failed (status %d)\n", status);
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 20;
  std::vector<char*> program;
  static char kTrue[] = "/bin/true";
  if (argc > 2) {
    for (int i = 2; i < argc; ++i) program.push_back(argv[i]);
  } else {
    program.push_back(kTrue);
  }
  program.push_back(nullptr);
  std::vector<Config> configs = {{"none", sb::LayerSet()}, {"all", sb::LayerSet::All()}};
  for (int i = 0; i < sb::kLayerCount; ++i) {
    sb::LayerSet without = sb::LayerSet::All();
    without.Remove(static_cast<sb::Layer>(i));
    configs.push_back({std::string("all but ") + sb::LayerName(static_cast<sb::Layer>(i)), without});
  }
  std::map<std::string, std::vector<double>> times;
  for (auto& c : configs) RunOnce(c.layers, program.data());  // warm the caches once
  for (int r = 0; r < runs; ++r) {
    for (auto& c : configs) times[c.name].push_back(RunOnce(c.layers, program.data()));
  }
  std::printf("{\"runs\": %d, \"program\": \"%s\", \"configs\": [", runs, program[0]);
  for (std::size_t i = 0; i < configs.size(); ++i) {
    const auto& t = times[configs[i].name];
    std::printf("%s{\"name\": \"%s\", \"median_ms\": %.3f, \"p90_ms\": %.3f}", i ? ", " : "",
                configs[i].name.c_str(), Quantile(t, 0.5), Quantile(t, 0.9));
  }
  std::printf("]}\n");
  return 0;
}

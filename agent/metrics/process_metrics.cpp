#include "agent/metrics/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace bg {
namespace {

double BootTimeSeconds() {
  static const double boot = [] {
    std::ifstream in("/proc/stat");
    std::string key;
    double value = 0;
    while (in >> key) {
      if (key == "btime") {
        in >> value;
        return value;
      }
      in.ignore(1 << 20, '\n');
    }
    return 0.0;
  }();
  return boot;
}

MetricFamily One(const char* name, const char* help, const char* unit, MetricType type,
                 double value) {
  MetricFamily f{name, help, unit, type, {}};
  MetricSample s;
  s.value = value;
  f.samples.push_back(s);
  return f;
}

}  // namespace

std::vector<MetricFamily> CollectProcessMetrics() {
  std::vector<MetricFamily> out;
  std::ifstream in("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: parse after its ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return out;
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  for (std::string token; fields >> token;) f.push_back(token);
  if (f.size() < 22) return out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  const double utime = std::stod(f[11]), stime = std::stod(f[12]);  // fields 14, 15
  const double start = std::stod(f[19]);                              // field 22
  const double vsize = std::stod(f[20]), rss = std::stod(f[21]);     // fields 23, 24
  out.push_back(One("process_cpu_seconds", "Total user and system CPU time spent in seconds.",
                    "seconds", MetricType::kCounter, (utime + stime) / ticks));
  out.push_back(One("process_resident_memory_bytes", "Resident memory size in bytes.", "bytes",
                    MetricType::kGauge, rss * page));
  out.push_back(One("process_virtual_memory_bytes", "Virtual memory size in bytes.", "bytes",
                    MetricType::kGauge, vsize));
  if (const double boot = BootTimeSeconds(); boot > 0) {
    out.push_back(One("process_start_time_seconds",
                      "Start time of the process since unix epoch in seconds.", "seconds",
                      MetricType::kGauge, boot + start / ticks));
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    out.push_back(One("process_max_fds", "Maximum number of open file descriptors.", "",
                      MetricType::kGauge, static_cast<double>(limit.rlim_cur)));
  }
  return out;
}

}  // namespace bg

// The rlimit layer: no core dumps, and the run's limits on open files, address space
// (RLIMIT_AS), CPU seconds (soft; hard 5 s later: SIGXCPU, then SIGKILL) and processes
// (RLIMIT_NPROC: counted per uid, per user namespace since Linux 5.14, so set after the user
// namespace is made: a run's own namespace counts only its own processes). Where there is no
// private tmpfs (no mount layer), RLIMIT_FSIZE bounds each file the payload writes to the size
// the tmpfs would have had. Limits above the caller's own hard limits are lowered to them (an
// unprivileged caller cannot raise them).
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>

#include "agent/sandbox/layer.h"

namespace bg::sandbox::internal {
namespace {

using Resource = decltype(RLIMIT_AS);  // an enum in glibc's C++ declarations

enum Step : std::int32_t { kStepCore = 1, kStepNofile, kStepAs, kStepCpu, kStepNproc, kStepFsize };

rlimit Capped(Resource resource, rlim_t soft, rlim_t hard) {
  rlimit current{};
  if (::getrlimit(resource, &current) != 0) current.rlim_max = RLIM_INFINITY;
  return {std::min(soft, current.rlim_max), std::min(hard, current.rlim_max)};
}

void Prepare(Prepared& p) {
  const Spec& s = p.spec;
  p.nofile = Capped(RLIMIT_NOFILE, s.open_files, s.open_files);
  p.limit_as = s.address_space_bytes > 0;
  p.as = Capped(RLIMIT_AS, s.address_space_bytes, s.address_space_bytes);
  p.limit_cpu = s.cpu_seconds > 0;
  p.cpu = Capped(RLIMIT_CPU, s.cpu_seconds, s.cpu_seconds + 5);
  p.limit_nproc = s.processes > 0;
  p.nproc = Capped(RLIMIT_NPROC, s.processes, s.processes);
  p.fsize = Capped(RLIMIT_FSIZE, s.tmp_bytes, s.tmp_bytes);
}

bool Set(Resource resource, const rlimit& value, std::int32_t step, LayerResult& res) {
  if (::setrlimit(resource, &value) == 0) return true;
  MarkFailed(res, step, errno);
  return false;
}

void Apply(const Prepared& p, Report& r) {
  LayerResult& res = r.of(Layer::kRlimit);
  const rlimit no_core{0, 0};
  if (!Set(RLIMIT_CORE, no_core, kStepCore, res) || !Set(RLIMIT_NOFILE, p.nofile, kStepNofile, res) ||
      (p.limit_as && !Set(RLIMIT_AS, p.as, kStepAs, res)) ||
      (p.limit_cpu && !Set(RLIMIT_CPU, p.cpu, kStepCpu, res)) ||
      (p.limit_nproc && !Set(RLIMIT_NPROC, p.nproc, kStepNproc, res)) ||
      (!r.applied(Layer::kMount) && !Set(RLIMIT_FSIZE, p.fsize, kStepFsize, res))) {
    return;
  }
  MarkApplied(res);
}

void Describe(const Prepared& p, const Report& r, LayerOutcome& out) {
  const LayerResult& res = r.of(Layer::kRlimit);
  out.facts.emplace_back("open_files", std::to_string(p.nofile.rlim_cur));
  if (p.limit_as) out.facts.emplace_back("address_space_bytes", std::to_string(p.as.rlim_cur));
  if (p.limit_cpu) out.facts.emplace_back("cpu_seconds", std::to_string(p.cpu.rlim_cur));
  if (p.limit_nproc) out.facts.emplace_back("processes", std::to_string(p.nproc.rlim_cur));
  if (res.state == LayerState::kApplied) return;
  static const char* const kNames[] = {"", "RLIMIT_CORE", "RLIMIT_NOFILE", "RLIMIT_AS",
                                       "RLIMIT_CPU", "RLIMIT_NPROC", "RLIMIT_FSIZE"};
  const char* name = res.step > 0 && res.step <= kStepFsize ? kNames[res.step] : "setrlimit";
  out.why = std::string("setrlimit(") + name + "): " + ErrnoName(res.err);
}

}  // namespace

const LayerOps kRlimitLayer = {Layer::kRlimit, Prepare, nullptr, Apply, Describe};

}  // namespace bg::sandbox::internal

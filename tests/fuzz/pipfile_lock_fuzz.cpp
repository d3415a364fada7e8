// A lockfile in a bundle (Pipfile.lock): ParsePipfileLock, then the policy's use of what it found.
#include "agent/lockfile/pipfile_lock.h"
#include "agent/lockfile/lockfile_policy.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto lock = bg::ParsePipfileLock(bg::fuzz::Text(data, size), "Pipfile.lock");
  if (lock.ok()) {
    bg::LockfilePolicy policy;
    for (const char* rule : {"torch>2.6.0a0", "numpy<1.26.4.post1", "pandas~=2.1.0", "six"}) {
      policy.deny.push_back(std::move(bg::DenyRule::Parse(rule)).value());
    }
    (void)bg::EvaluateLockfile(*lock, policy, bg::TorchRuntime::From("2.5.1"));
  }
  return 0;
}

// The lockfile fuzzers' common half (requirements_txt, uv_lock, poetry_lock, pipfile_lock): a
// parser under test, then the policy's use of what it found, with deny rules of each operator
// kind and a torch runtime to compare against.
#pragma once

#include <string_view>

#include "agent/lockfile/lockfile_policy.h"
#include "tests/fuzz/fuzz_util.h"

namespace bg::fuzz {

template <typename Parse>
int FuzzLockfile(const std::uint8_t* data, std::size_t size, Parse&& parse) {
  auto lock = parse(Text(data, size));
  if (lock.ok()) {
    LockfilePolicy policy;
    for (const char* rule : {"torch>2.6.0a0", "numpy<1.26.4.post1", "pandas~=2.1.0", "six"}) {
      policy.deny.push_back(std::move(DenyRule::Parse(rule)).value());
    }
    (void)EvaluateLockfile(*lock, policy, TorchRuntime::From("2.5.1"));
  }
  return 0;
}

}  // namespace bg::fuzz

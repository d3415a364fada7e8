// Shared by the lockfile tests: the fixture lockfiles under tests/fixtures/lockfiles/, written in
// the exact form each tool emits, and small lookups into a parsed Lockfile.
#pragma once

#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "agent/lockfile/lockfile.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace bg::test {

inline std::string LockFixture(const std::string& name) {
  return ReadFile(SourceDir() + "/tests/fixtures/lockfiles/" + name);
}

// The 1-based line of the first line of `text` that starts with `prefix`; 0 when none.
inline int LineStartingWith(const std::string& text, const std::string& prefix) {
  int line = 1;
  std::size_t start = 0;
  while (start < text.size()) {
    if (text.compare(start, prefix.size(), prefix) == 0) return line;
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) break;
    start = nl + 1;
    ++line;
  }
  return 0;
}

inline Lockfile MustParse(const std::string& text, const std::string& source) {
  auto lock = ParseLockfile(text, source);
  INFO(lock.status().message());
  REQUIRE(lock.ok());
  return std::move(lock).value();
}

// The n-th entry (0-based) of the package with normalized name `key`.
inline const LockedPackage& Pkg(const Lockfile& lock, const std::string& key, int n = 0) {
  for (const auto& p : lock.packages) {
    if (p.key == key && n-- == 0) return p;
  }
  FAIL("no package " << key);
  throw std::logic_error("unreachable");
}

inline std::size_t CountPinned(const Lockfile& lock) {
  std::size_t n = 0;
  for (const auto& p : lock.packages) n += p.pinned ? 1 : 0;
  return n;
}

inline std::string InvalidMessage(const std::string& text, const std::string& source) {
  auto lock = ParseLockfile(text, source);
  REQUIRE_FALSE(lock.ok());
  CHECK(lock.status().reason() == Reason::kLockfileInvalid);
  return lock.status().message();
}

}  // namespace bg::test

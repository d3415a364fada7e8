// Shared by the libFuzzer harnesses (tests/fuzz/*_fuzz.cpp): the input as text, and a check
// that fails loudly (abort, which libFuzzer reports with the input) when a parser breaks a
// promise its header makes, not only when it crashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bg::fuzz {

inline std::string_view Text(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

inline void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
  }
}

}  // namespace bg::fuzz

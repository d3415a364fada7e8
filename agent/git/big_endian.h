// Big-endian integers as git's binary files store them (pack indexes, commit-graphs).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace bg {

inline std::uint32_t Be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         p[3];
}

inline std::uint64_t Be64(const std::uint8_t* p) {
  return (std::uint64_t{Be32(p)} << 32) | Be32(p + 4);
}

}  // namespace bg

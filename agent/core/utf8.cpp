#include "agent/core/utf8.h"

namespace bg {

std::size_t Utf8SequenceLength(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool IsValidUtf8Sequence(std::string_view s, std::size_t i, std::size_t len) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return false;
  }
  if (len == 3 && byte(0) == 0xE0 && byte(1) < 0xA0) return false;  // overlong
  if (len == 3 && byte(0) == 0xED && byte(1) > 0x9F) return false;  // surrogate
  if (len == 4 && byte(0) == 0xF0 && byte(1) < 0x90) return false;  // overlong
  if (len == 4 && byte(0) == 0xF4 && byte(1) > 0x8F) return false;  // past U+10FFFF
  return true;
}

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t len = Utf8SequenceLength(static_cast<unsigned char>(s[i]));
    if (len == 0 || i + len > s.size() || !IsValidUtf8Sequence(s, i, len)) return false;
    i += len;
  }
  return true;
}

}  // namespace bg

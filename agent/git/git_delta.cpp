#include "agent/git/git_delta.h"

namespace bg {
namespace {

Status Bad(const std::string& why) { return Status::Error("invalid git delta: " + why); }

// A size as the delta header writes it: 7 bits a byte, least significant first.
bool ReadSize(std::string_view delta, std::size_t& at, std::uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (at >= delta.size()) return false;
    const auto byte = static_cast<std::uint8_t>(delta[at++]);
    out |= std::uint64_t{byte & 0x7Fu} << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// The offset and size of a copy instruction: bit i of `op` says byte i is present.
bool ReadCopy(std::uint8_t op, std::string_view delta, std::size_t& at, std::uint64_t& offset,
              std::uint64_t& size) {
  offset = size = 0;
  for (int i = 0; i < 7; ++i) {
    if ((op & (1u << i)) == 0) continue;
    if (at >= delta.size()) return false;
    const std::uint64_t byte = static_cast<std::uint8_t>(delta[at++]);
    if (i < 4) {
      offset |= byte << (8 * i);
    } else {
      size |= byte << (8 * (i - 4));
    }
  }
  if (size == 0) size = 0x10000;
  return true;
}

}  // namespace

Result<std::uint64_t> GitDeltaResultSize(std::string_view delta) {
  std::size_t at = 0;
  std::uint64_t base_size = 0, result_size = 0;
  if (!ReadSize(delta, at, base_size) || !ReadSize(delta, at, result_size)) {
    return Bad("header cut short");
  }
  return result_size;
}

Result<std::string> ApplyGitDelta(std::string_view base, std::string_view delta,
                                  std::size_t max_result) {
  std::size_t at = 0;
  std::uint64_t base_size = 0, result_size = 0;
  if (!ReadSize(delta, at, base_size) || !ReadSize(delta, at, result_size)) {
    return Bad("header cut short");
  }
  if (base_size != base.size()) return Bad("base size does not match its base");
  if (result_size > max_result) return Bad("result larger than allowed");
  std::string out;
  out.reserve(result_size);
  while (at < delta.size()) {
    const auto op = static_cast<std::uint8_t>(delta[at++]);
    if (op & 0x80) {
      std::uint64_t offset = 0, size = 0;
      if (!ReadCopy(op, delta, at, offset, size)) return Bad("copy instruction cut short");
      if (offset > base.size() || size > base.size() - offset) return Bad("copy outside base");
      if (size > result_size - out.size()) return Bad("result longer than declared");
      out.append(base.substr(offset, size));
    } else if (op != 0) {
      if (op > delta.size() - at) return Bad("insert instruction cut short");
      if (op > result_size - out.size()) return Bad("result longer than declared");
      out.append(delta.substr(at, op));
      at += op;
    } else {
      return Bad("reserved instruction 0");
    }
  }
  if (out.size() != result_size) return Bad("result shorter than declared");
  return out;
}

}  // namespace bg

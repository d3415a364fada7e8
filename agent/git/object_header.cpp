#include "agent/git/object_header.h"

#include <charconv>

namespace bg {
namespace {

constexpr std::size_t kHexId = GIT_OID_HEXSZ;

// Hex digit values, 0xFF for anything else (git writes lower case, and reads both).
struct HexTable {
  std::uint8_t value[256];
  constexpr HexTable() : value() {
    for (int c = 0; c < 256; ++c) value[c] = 0xFF;
    for (int c = '0'; c <= '9'; ++c) value[c] = static_cast<std::uint8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) value[c] = static_cast<std::uint8_t>(c - 'a' + 10);
    for (int c = 'A'; c <= 'F'; ++c) value[c] = static_cast<std::uint8_t>(c - 'A' + 10);
  }
};
constexpr HexTable kHex;

// 40 hex digits into an id (libgit2's parser is several times slower and checks no more).
bool ParseHexId(const char* hex, git_oid& out) {
  unsigned bad = 0;
  for (std::size_t i = 0; i < GIT_OID_RAWSZ; ++i) {
    const std::uint8_t hi = kHex.value[static_cast<unsigned char>(hex[2 * i])];
    const std::uint8_t lo = kHex.value[static_cast<unsigned char>(hex[2 * i + 1])];
    bad |= (hi | lo) & 0xF0u;
    out.id[i] = static_cast<unsigned char>(hi << 4 | (lo & 0x0F));
  }
  return bad == 0;
}

// Reads "<key> <40 hex>\n" at `at`; false when the line is something else.
bool ReadIdLine(std::string_view raw, std::size_t& at, std::string_view key, git_oid& out) {
  const std::size_t length = key.size() + 1 + kHexId + 1;
  if (raw.size() - at < length || raw.compare(at, key.size(), key) != 0 ||
      raw[at + key.size()] != ' ' || raw[at + length - 1] != '\n') {
    return false;
  }
  if (!ParseHexId(raw.data() + at + key.size() + 1, out)) return false;
  at += length;
  return true;
}

// The seconds after the last '>' of a "committer Name <email> 1700000000 +0000" line.
std::int64_t TimeOf(std::string_view line) {
  const std::size_t gt = line.rfind('>');
  if (gt == std::string_view::npos) return 0;
  std::size_t at = gt + 1;
  while (at < line.size() && line[at] == ' ') ++at;
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(line.data() + at, line.data() + line.size(), seconds);
  (void)end;
  return ec == std::errc() ? seconds : 0;
}

}  // namespace

Status ParseCommitHeader(std::string_view raw, CommitHeader& out) {
  out.parents.clear();
  out.time = 0;
  std::size_t at = 0;
  git_oid id;
  if (!ReadIdLine(raw, at, "tree", id)) return Status::Error("malformed commit: no tree line");
  while (raw.compare(at, 7, "parent ") == 0) {
    if (!ReadIdLine(raw, at, "parent", id)) {
      return Status::Error("malformed commit: bad parent line");
    }
    out.parents.push_back(id);
  }
  // The remaining header lines, up to the empty line that starts the message.
  while (at < raw.size() && raw[at] != '\n') {
    std::size_t end = raw.find('\n', at);
    if (end == std::string_view::npos) end = raw.size();
    const std::string_view line = raw.substr(at, end - at);
    if (line.rfind("committer ", 0) == 0) {
      out.time = TimeOf(line);
      break;
    }
    at = end + 1;
  }
  return Status::Ok();
}

bool ParseTagTarget(std::string_view raw, git_oid& target) {
  std::size_t at = 0;
  return ReadIdLine(raw, at, "object", target);
}

}  // namespace bg

#include "agent/audit/torn_tail.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "agent/audit/line_reader.h"
#include "agent/core/clock.h"
#include "agent/core/hex.h"
#include "agent/core/sha256.h"
#include "agent/core/utf8.h"

namespace bg {
namespace {

constexpr std::size_t kCopyBlock = 1024 * 1024;

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

// "<log>.torn-<utc>", with "-2", "-3"... when two repairs fall in one millisecond.
std::string UnusedTornPath(const std::string& log_path) {
  const std::string base = log_path + ".torn-" + CompactUtc(std::chrono::system_clock::now());
  std::string path = base;
  for (int i = 2; PathExists(path); ++i) path = base + "-" + std::to_string(i);
  return path;
}

std::string ParentDir(const std::string& path) {
  const auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

// Copies [from, to) of `log_fd` to `out_fd`, hashing it and keeping its first bytes in `torn`.
Status CopyTornBytes(Env& env, int log_fd, const std::string& log_path, int out_fd,
                     SavedTornTail& torn) {
  Sha256 hash;
  for (off_t at = torn.offset; at < torn.offset + torn.size;) {
    const auto n = static_cast<std::size_t>(
        std::min<off_t>(static_cast<off_t>(kCopyBlock), torn.offset + torn.size - at));
    BG_ASSIGN_OR_RETURN(std::string block, ReadAt(log_fd, at, n, log_path));
    hash.Update(block);
    if (torn.head.size() < kTornBytesQuoted) {
      torn.head.append(block, 0, kTornBytesQuoted - torn.head.size());
    }
    BG_RETURN_IF_ERROR(env.WriteAll(out_fd, block, torn.saved_to));
    at += static_cast<off_t>(n);
  }
  torn.sha256 = hash.FinalHex();
  return Status::Ok();
}

}  // namespace

bool IsPrintableUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if ((lead < 0x20 && lead != '\t') || lead == 0x7F) return false;
    const std::size_t len = Utf8SequenceLength(lead);
    if (len == 0 || i + len > s.size() || !IsValidUtf8Sequence(s, i, len)) return false;
    i += len;
  }
  return true;
}

Result<SavedTornTail> SaveTornBytes(Env& env, int log_fd, const std::string& log_path, off_t from,
                                    off_t to) {
  SavedTornTail torn;
  torn.offset = from;
  torn.size = to - from;
  torn.saved_to = UnusedTornPath(log_path);
  BG_ASSIGN_OR_RETURN(UniqueFd out,
                      env.Open(torn.saved_to, O_WRONLY | O_CREAT | O_EXCL, 0640));
  BG_RETURN_IF_ERROR(CopyTornBytes(env, log_fd, log_path, out.get(), torn));
  BG_RETURN_IF_ERROR(env.Fsync(out.get(), torn.saved_to));
  BG_RETURN_IF_ERROR(env.FsyncDir(ParentDir(torn.saved_to)));
  return torn;
}

Json DescribeTornTail(const SavedTornTail& torn) {
  Json j;
  j["what"] = "torn-tail";
  j["message"] = "the audit log ended in a torn line (a crash during an append?): its " +
                 std::to_string(torn.size) + " bytes at offset " + std::to_string(torn.offset) +
                 " were saved to " + torn.saved_to + " and removed from the log";
  j["offset"] = torn.offset;
  j["bytes"] = torn.size;
  j["sha256"] = torn.sha256;
  j["saved_to"] = torn.saved_to;
  if (IsPrintableUtf8(torn.head)) {
    j["text"] = torn.head;
  } else {
    j["hex"] = ToHex(reinterpret_cast<const std::uint8_t*>(torn.head.data()), torn.head.size());
  }
  if (static_cast<off_t>(torn.head.size()) < torn.size) j["quoted_bytes"] = torn.head.size();
  return j;
}

}  // namespace bg

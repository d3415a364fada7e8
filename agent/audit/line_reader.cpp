#include "agent/audit/line_reader.h"

#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "agent/core/errno_status.h"

namespace bg {
namespace {

constexpr std::size_t kBlock = 64 * 1024;
constexpr std::size_t kForwardChunk = 1024 * 1024;

// Reads up to `size` bytes at `offset`, retrying EINTR and short reads; returns how many.
Result<std::size_t> PreadSome(int fd, char* buf, std::size_t size, off_t offset,
                              const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, buf + done, size - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read", path);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// Splits `data` (appended to `carry`) into lines for `fn`; keeps the unfinished rest in `carry`.
void EmitLines(std::string& carry, std::string_view data,
               const std::function<void(std::string_view, bool)>& fn) {
  while (!data.empty()) {
    const auto nl = data.find('\n');
    if (nl == std::string_view::npos) {
      carry.append(data);
      return;
    }
    if (carry.empty()) {
      fn(data.substr(0, nl), true);
    } else {
      carry.append(data.substr(0, nl));
      fn(carry, true);
      carry.clear();
    }
    data.remove_prefix(nl + 1);
  }
}

}  // namespace

Result<UniqueFd> OpenForReading(const std::string& path) {
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus("open", path);
  return UniqueFd(fd);
}

Result<off_t> FileSize(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus("stat", path);
  if (!S_ISREG(st.st_mode)) return Status::Error(path + " is not a regular file");
  return st.st_size;
}

Result<off_t> SizeBetweenAppends(int fd, const std::string& path) {
  while (::flock(fd, LOCK_SH) != 0) {
    if (errno != EINTR) return ErrnoStatus("lock", path);
  }
  auto size = FileSize(fd, path);
  ::flock(fd, LOCK_UN);
  return size;
}

Result<std::string> ReadAt(int fd, off_t offset, std::size_t size, const std::string& path) {
  std::string buf(size, '\0');
  BG_ASSIGN_OR_RETURN(const std::size_t got, PreadSome(fd, buf.data(), size, offset, path));
  if (got != size) return Status::Error("read " + path + ": the file shrank while being read");
  return buf;
}

Status ForEachLine(const std::string& path,
                   const std::function<void(std::string_view, bool)>& fn) {
  BG_ASSIGN_OR_RETURN(UniqueFd fd, OpenForReading(path));
  BG_ASSIGN_OR_RETURN(const off_t size, SizeBetweenAppends(fd.get(), path));
  std::string chunk(kForwardChunk, '\0');
  std::string carry;
  for (off_t at = 0; at < size;) {
    const auto want = static_cast<std::size_t>(std::min<off_t>(size - at, off_t{kForwardChunk}));
    BG_ASSIGN_OR_RETURN(const std::size_t got, PreadSome(fd.get(), chunk.data(), want, at, path));
    if (got == 0) break;  // cut short by a repair since: read what is there
    EmitLines(carry, std::string_view(chunk.data(), got), fn);
    at += static_cast<off_t>(got);
  }
  if (!carry.empty()) fn(carry, false);
  return Status::Ok();
}

Result<off_t> FindLastNewline(int fd, off_t end, const std::string& path) {
  std::string block(kBlock, '\0');
  while (end > 0) {
    const off_t start = std::max<off_t>(0, end - static_cast<off_t>(kBlock));
    const auto size = static_cast<std::size_t>(end - start);
    BG_ASSIGN_OR_RETURN(const std::size_t got, PreadSome(fd, block.data(), size, start, path));
    if (got != size) return Status::Error("read " + path + ": the file shrank while being read");
    if (const void* nl = ::memrchr(block.data(), '\n', size); nl != nullptr) {
      return start + static_cast<off_t>(static_cast<const char*>(nl) - block.data());
    }
    end = start;
  }
  return off_t{-1};
}

ReverseLineReader::ReverseLineReader(int fd, off_t end, std::string path)
    : fd_(fd), path_(std::move(path)), pos_(end), end_(end) {}

Result<std::optional<std::string>> ReverseLineReader::Previous() {
  if (end_ == 0) return std::optional<std::string>();
  for (;;) {
    if (end_ > pos_) {
      // buf_ ends with this line's "\n"; look for the one before it.
      const auto nl_index = static_cast<std::size_t>(end_ - 1 - pos_);
      const void* nl = ::memrchr(buf_.data(), '\n', nl_index);
      if (nl != nullptr || pos_ == 0) {
        const std::size_t start =
            nl == nullptr ? 0 : static_cast<std::size_t>(static_cast<const char*>(nl) - buf_.data()) + 1;
        std::string line = buf_.substr(start, nl_index - start);
        buf_.resize(start);
        end_ = pos_ + static_cast<off_t>(start);
        return std::optional<std::string>(std::move(line));
      }
    }
    BG_RETURN_IF_ERROR(ReadMore());
  }
}

Status ReverseLineReader::ReadMore() {
  // Grow geometrically so that a very long line costs linear time, not quadratic.
  const std::size_t want = std::max(kBlock, buf_.size());
  const off_t start = std::max<off_t>(0, pos_ - static_cast<off_t>(want));
  BG_ASSIGN_OR_RETURN(std::string block,
                      ReadAt(fd_, start, static_cast<std::size_t>(pos_ - start), path_));
  buf_.insert(0, block);
  pos_ = start;
  return Status::Ok();
}

}  // namespace bg

// Template part of bundle_walk.h: ReadAll.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "agent/core/errno_status.h"

namespace bg {

inline constexpr std::size_t kReadBlockSize = 1 << 20;

template <typename Sink>
Result<std::uint64_t> ReadAll(int fd, const std::string& rel, const std::atomic<bool>* cancelled,
                              Sink&& sink) {
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_local std::unique_ptr<char[]> buffer(new char[kReadBlockSize]);
  std::uint64_t total = 0;
  while (true) {
    if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
      return Status::Error("cancelled while reading " + rel);
    }
    const ssize_t n = ::read(fd, buffer.get(), kReadBlockSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", rel);
    }
    if (n == 0) return total;
    BG_RETURN_IF_ERROR(sink(buffer.get(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
}

}  // namespace bg

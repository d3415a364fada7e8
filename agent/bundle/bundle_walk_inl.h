// Template part of bundle_walk.h: ReadAll.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <utility>

#include "agent/core/errno_status.h"

namespace bg {

inline constexpr std::size_t kReadBlockSize = 1 << 20;
// Hashing reads smaller blocks: 128 KiB stays in the core's L2 cache between the kernel's copy
// into it and SHA-256 reading it back, where 1 MiB blocks evict each other on the way
// (scripts/bench/hash_throughput.sh measures both).
inline constexpr std::size_t kHashBlockSize = 128 << 10;

template <typename Sink>
Result<std::uint64_t> ReadAll(int fd, const std::string& rel, const std::atomic<bool>* cancelled,
                              Sink&& sink, std::size_t block_size) {
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_local std::unique_ptr<char[]> buffer(new char[kReadBlockSize]);
  if (block_size == 0 || block_size > kReadBlockSize) block_size = kReadBlockSize;
  std::uint64_t total = 0;
  while (true) {
    if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
      return Status::Error("cancelled while reading " + rel);
    }
    const ssize_t n = ::read(fd, buffer.get(), block_size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", rel);
    }
    if (n == 0) return total;
    BG_RETURN_IF_ERROR(sink(buffer.get(), static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
  }
}

template <typename Sink>
Result<std::uint64_t> ReadAll(int fd, const std::string& rel, const std::atomic<bool>* cancelled,
                              Sink&& sink) {
  return ReadAll(fd, rel, cancelled, std::forward<Sink>(sink), kReadBlockSize);
}

}  // namespace bg

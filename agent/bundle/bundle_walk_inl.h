// Template part of bundle_walk.h: ReadAll.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace bg {

inline constexpr std::size_t kReadBlockSize = 1 << 20;
// Hashing reads smaller blocks: 128 KiB stays in the core's L2 cache between the kernel's copy
// into it and SHA-256 reading it back, where 1 MiB blocks evict each other on the way
// (scripts/bench/hash_throughput.sh measures both).
inline constexpr std::size_t kHashBlockSize = 128 << 10;

template <typename Sink>
Result<std::uint64_t> ReadAll(const FileToRead& file, const std::string& rel,
                              const std::atomic<bool>* cancelled, Sink&& sink,
                              std::size_t block_size) {
  ::posix_fadvise(file.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  thread_local std::unique_ptr<char[]> buffer(new char[kReadBlockSize]);
  if (block_size == 0 || block_size > kReadBlockSize) block_size = kReadBlockSize;
  Env& env = file.env != nullptr ? *file.env : Env::Default();
  std::uint64_t total = 0;
  while (total < file.read_limit) {
    if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) {
      return Status::Error("cancelled while reading " + rel);
    }
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(block_size, file.read_limit - total));
    BG_ASSIGN_OR_RETURN(const std::size_t n, env.Read(file.fd, buffer.get(), want, rel));
    if (n == 0) break;
    BG_RETURN_IF_ERROR(sink(buffer.get(), n));
    total += n;
  }
  return total;
}

template <typename Sink>
Result<std::uint64_t> ReadAll(const FileToRead& file, const std::string& rel,
                              const std::atomic<bool>* cancelled, Sink&& sink) {
  return ReadAll(file, rel, cancelled, std::forward<Sink>(sink), kReadBlockSize);
}

}  // namespace bg

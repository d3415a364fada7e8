// HashQueue: files the bundle walk has opened, hashed (SHA-256) on a few threads of their own
// while the walk goes on. HashingVisitor's engine when it has more than one thread.
//
// The walk thread adds a duplicate of each descriptor it opened and checked (regular, one link,
// opened with O_NOFOLLOW: bundle_walk.h); the queue never opens anything by name. At most two
// files per thread wait in the queue, so a bundle of 100,000 files never holds more than a few
// descriptors open, and Add blocks until there is room. Threads start when there is work for
// them, up to `threads`; Drain hashes alongside them, waits for the last one and stops them.
//
// Thread safety: Add and Drain are called from one thread (the walk's); the workers are internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/core/env.h"
#include "agent/core/status.h"
#include "agent/core/unique_fd.h"

namespace bg {

// Reads `file` up to its read_limit (bundle_walk.h) and hashes it: the byte count and the hex
// digest.
struct FileHash {
  std::uint64_t size = 0;
  std::string sha256;
};
Result<FileHash> HashOpenFile(const FileToRead& file, const std::string& rel,
                              const std::atomic<bool>* cancelled);

class HashQueue {
 public:
  struct Hashed {
    std::string path;
    Result<FileHash> hash = Status::Error("not hashed");
    std::uint64_t read_limit = 0;  // the bound it was read to (size >= it: truncated)
  };

  HashQueue(int threads, const std::atomic<bool>* cancelled);
  ~HashQueue();  // stops the workers; files still queued are dropped (their descriptors closed)
  HashQueue(const HashQueue&) = delete;
  HashQueue& operator=(const HashQueue&) = delete;

  // `fd` is read up to `read_limit` bytes through `env` (null: Env::Default()).
  void Add(std::string rel, UniqueFd fd, std::uint64_t read_limit, Env* env);
  // Every file added since the last Drain, hashed, in no particular order.
  std::vector<Hashed> Drain();

 private:
  struct Job {
    std::string rel;
    UniqueFd fd;
    std::uint64_t read_limit = 0;
    Env* env = nullptr;
  };

  void Work();
  // Takes one job off the queue and hashes it; false when the queue was empty. `lock` is held
  // on entry and on return, released while hashing.
  bool HashOne(std::unique_lock<std::mutex>& lock);
  void Stop();

  const std::size_t max_threads_;
  const std::atomic<bool>* cancelled_;
  std::mutex mu_;
  std::condition_variable work_;  // a job was queued, or stop
  std::condition_variable room_;  // a job was taken, or one finished
  std::deque<Job> queue_;
  std::size_t in_flight_ = 0;
  bool stop_ = false;
  std::vector<Hashed> done_;
  std::vector<std::thread> threads_;
};

}  // namespace bg

// FsyncQueue: fsyncs the files of a copy on a few threads while the copy goes on.
//
// Copy intake makes every file durable on the descriptor that wrote it (env.h, "Durability"):
// one fsync per file. Done one after the other they would add up (a journal commit each on
// most filesystems); issued from a few threads at once, the filesystem commits them together.
// The queue owns each descriptor handed to it and closes it once synced. It holds at most
// `max_pending` descriptors at a time (Add waits for room), so a bundle of many files cannot
// exhaust the process's descriptors.
//
// Thread safety: Add and Finish are called from one thread (the copying one); the sync threads
// are internal.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/core/env.h"
#include "agent/core/unique_fd.h"

namespace bg {

class FsyncQueue {
 public:
  explicit FsyncQueue(Env& env, int threads = 4, std::size_t max_pending = 16);
  ~FsyncQueue();  // Finish()es
  FsyncQueue(const FsyncQueue&) = delete;
  FsyncQueue& operator=(const FsyncQueue&) = delete;

  // Queues `fd` (the file at `path`) for fsync. Returns the first failure seen so far, if any,
  // so that the copy can stop early: a file that failed to sync must be written again.
  Status Add(UniqueFd fd, std::string path);
  // Waits until every queued file is synced (or failed); the first failure, if any.
  Status Finish();

 private:
  struct Item {
    UniqueFd fd;
    std::string path;
  };
  void Worker();

  Env& env_;
  const int threads_;
  const std::size_t max_pending_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  std::size_t in_progress_ = 0;
  bool stop_ = false;
  Status first_error_;
  std::vector<std::thread> workers_;
};

}  // namespace bg

#include "agent/intake/fsync_queue.h"

namespace bg {

FsyncQueue::FsyncQueue(Env& env, int threads, std::size_t max_pending)
    : env_(env), threads_(threads < 1 ? 1 : threads), max_pending_(max_pending < 1 ? 1 : max_pending) {}

FsyncQueue::~FsyncQueue() { (void)Finish(); }

Status FsyncQueue::Add(UniqueFd fd, std::string path) {
  std::unique_lock<std::mutex> lock(mu_);
  // Threads start with the first file: a bundle of one file needs no more than one.
  if (static_cast<int>(workers_.size()) < threads_ && workers_.size() <= queue_.size() + in_progress_) {
    workers_.emplace_back([this] { Worker(); });
  }
  cv_.wait(lock, [this] { return queue_.size() + in_progress_ < max_pending_; });
  if (!first_error_.ok()) return first_error_;
  queue_.push_back({std::move(fd), std::move(path)});
  cv_.notify_all();
  return Status::Ok();
}

Status FsyncQueue::Finish() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }
  for (auto& t : workers_) t.join();
  workers_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = false;
  return first_error_;
}

void FsyncQueue::Worker() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stop_ and nothing left
    Item item = std::move(queue_.front());
    queue_.pop_front();
    ++in_progress_;
    lock.unlock();
    Status st = env_.Fsync(item.fd.get(), item.path);
    item.fd.Reset();
    lock.lock();
    --in_progress_;
    if (!st.ok() && first_error_.ok()) first_error_ = st;
    cv_.notify_all();
  }
}

}  // namespace bg

#include "agent/bundle/hash_queue.h"

#include "agent/bundle/bundle_walk.h"
#include "agent/core/sha256.h"

namespace bg {

Result<FileHash> HashOpenFile(const FileToRead& file, const std::string& rel,
                              const std::atomic<bool>* cancelled) {
  Sha256 hash;
  auto read = ReadAll(
      file, rel, cancelled,
      [&](const char* data, std::size_t n) {
        hash.Update(data, n);
        return Status::Ok();
      },
      kHashBlockSize);
  if (!read.ok()) return read.status();
  return FileHash{*read, hash.FinalHex()};
}

HashQueue::HashQueue(int threads, const std::atomic<bool>* cancelled)
    : max_threads_(threads < 1 ? 1 : static_cast<std::size_t>(threads)), cancelled_(cancelled) {}

HashQueue::~HashQueue() { Stop(); }

void HashQueue::Add(std::string rel, UniqueFd fd, std::uint64_t read_limit, Env* env) {
  std::unique_lock<std::mutex> lock(mu_);
  room_.wait(lock, [&] { return queue_.size() < 2 * max_threads_; });
  queue_.push_back(Job{std::move(rel), std::move(fd), read_limit, env});
  // A new thread when the ones there are all busy (the first file starts the first thread).
  if (threads_.size() < max_threads_ && in_flight_ + queue_.size() > threads_.size()) {
    threads_.emplace_back([this] { Work(); });
  }
  work_.notify_one();
}

std::vector<HashQueue::Hashed> HashQueue::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  while (HashOne(lock)) {
  }
  room_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
  std::vector<Hashed> out = std::move(done_);
  done_.clear();
  lock.unlock();
  Stop();
  return out;
}

void HashQueue::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    HashOne(lock);
  }
}

bool HashQueue::HashOne(std::unique_lock<std::mutex>& lock) {
  if (queue_.empty()) return false;
  Job job = std::move(queue_.front());
  queue_.pop_front();
  ++in_flight_;
  room_.notify_one();
  lock.unlock();
  FileToRead file;
  file.fd = job.fd.get();
  file.read_limit = job.read_limit;
  file.env = job.env;
  Hashed hashed{job.rel, HashOpenFile(file, job.rel, cancelled_), job.read_limit};
  job.fd.Reset();
  lock.lock();
  done_.push_back(std::move(hashed));
  --in_flight_;
  room_.notify_all();
  return true;
}

void HashQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
  stop_ = false;
}

}  // namespace bg

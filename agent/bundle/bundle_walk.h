// WalkBundle: one pass over everything under a bundle directory.
//
// The walk descends through directory descriptors (openat with O_NOFOLLOW, never a path string),
// classifies every entry with lstat semantics, and hands each regular file, opened, to a
// visitor: the integrity check hashes it (HashingVisitor, on up to `threads` threads while the
// walk goes on), copy intake copies and hashes it in the same read (intake/copy_visitor.h). Anything but a regular file or a directory, and any
// regular file with more than one link, is recorded as unsafe and not opened. The walk stops at
// the first limit it crosses (bytes, entries, depth, path length) and says which.
//
// Thread safety: a walk uses only its arguments; several walks may run at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/bundle/bundle_dir.h"
#include "agent/config/config.h"
#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct WalkedFile {
  std::string path;  // relative, '/'-separated
  std::uint64_t size = 0;
  std::string sha256;  // filled by the visitor; empty if it did not hash
};

struct UnsafeEntry {
  std::string path;
  std::string why;  // "symlink", "fifo", "hard link (2 links)", ...
};

struct WalkReport {
  std::vector<WalkedFile> files;         // sorted by path (bytewise)
  std::vector<std::string> directories;  // sorted
  std::vector<UnsafeEntry> unsafe;
  std::optional<std::string> limit_exceeded;  // which limit, in words
  std::uint64_t total_bytes = 0;
  double seconds = 0;  // wall time of the walk, hashing included

  const WalkedFile* FindFile(std::string_view path) const;
  bool safe() const { return unsafe.empty() && !limit_exceeded; }
  Json ToJson() const;
};

class WalkVisitor {
 public:
  virtual ~WalkVisitor() = default;
  // A directory, before its contents. `rel` is "" for the bundle root.
  virtual Status OnDirectory(const std::string& rel) {
    (void)rel;
    return Status::Ok();
  }
  // A regular file, opened read-only; fills out->size (bytes read) and out->sha256. `fd` is
  // closed when it returns; a visitor that reads later keeps its own duplicate.
  virtual Status OnFile(const std::string& rel, int fd, std::uint64_t stat_size,
                        WalkedFile* out) = 0;
  // After the last OnFile, with the report's files sorted by path: a visitor that finishes
  // files in the background fills in their sizes and hashes here, or fails with its first
  // error (in path order).
  virtual Status Finish(WalkReport& report) {
    (void)report;
    return Status::Ok();
  }
};

class HashQueue;

// Reads each file once and hashes it (SHA-256) in kHashBlockSize reads. With `threads` > 1, the
// files the walk opens are hashed on up to that many threads of their own while the walk goes
// on (a bundle of many files is hashed in parallel; one file is always hashed by one thread,
// SHA-256 being sequential); the walk itself, with its descriptor-relative opens and its
// findings, is unchanged, and reads only what it opened.
class HashingVisitor : public WalkVisitor {
 public:
  explicit HashingVisitor(const std::atomic<bool>* cancelled = nullptr, int threads = 1);
  ~HashingVisitor() override;
  Status OnFile(const std::string& rel, int fd, std::uint64_t stat_size, WalkedFile* out) override;
  Status Finish(WalkReport& report) override;

 private:
  const std::atomic<bool>* cancelled_;
  std::unique_ptr<HashQueue> queue_;  // null with one thread
};

// Reads `fd` to its end in blocks of `block_size` (at most kReadBlockSize, the default), calling
// `sink(data, n)` for each; the byte count read is returned. Shared by hashing and copying so
// both read files the same way.
template <typename Sink>
Result<std::uint64_t> ReadAll(int fd, const std::string& rel, const std::atomic<bool>* cancelled,
                              Sink&& sink, std::size_t block_size);
template <typename Sink>
Result<std::uint64_t> ReadAll(int fd, const std::string& rel, const std::atomic<bool>* cancelled,
                              Sink&& sink);

// Walks `dir`. An operational failure (EIO, EMFILE, a visitor error) is returned as a Status;
// unsafe entries and crossed limits are not errors but findings in the report.
Result<WalkReport> WalkBundle(const BundleDir& dir, const LimitsConfig& limits,
                              WalkVisitor& visitor);

}  // namespace bg

#include "agent/bundle/bundle_walk_inl.h"

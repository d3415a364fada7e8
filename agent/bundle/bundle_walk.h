// WalkBundle: one pass over everything under a bundle directory, and the one set of rules for
// what a bundle's tree may hold.
//
// The walk descends through directory descriptors (openat with O_NOFOLLOW, never a path string),
// classifies every entry with lstat semantics, and hands each regular file, opened, to a
// visitor: the integrity check hashes it (HashingVisitor, on up to `threads` threads while the
// walk goes on), copy intake copies and hashes it in the same read (intake/copy_visitor.h). Anything but a regular file or a directory, and any
// regular file with more than one link, is recorded as unsafe and not opened. The walk stops at
// the first limit it crosses (bytes, entries, depth, path length) and says which. The readiness
// probe (watch/readiness_probe.h) runs the same walk without opening files (open_files =
// false), so that the probe and the checks see the same tree by the same rules.
//
// Reads are bounded: a file listed in [[files]] (WalkOptions::declared) is read up to its
// declared size plus one byte, any other up to its size when opened plus one byte. A file that
// grows while it is read (a producer still appending after the claim) ends the read with
// WalkedFile::truncated: a size mismatch, never a read that fills the disk.
//
// Every open and read goes through Env ("open", "read"), so that tests can fail them. An
// operational failure is a Status (Reason::kNone, with its errno); unsafe entries and crossed
// limits are findings in the report, never errors.
//
// Thread safety: a walk uses only its arguments; several walks may run at once.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/bundle/bundle_dir.h"
#include "agent/config/config.h"
#include "agent/core/env.h"
#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

struct WalkedFile {
  std::string path;  // relative, '/'-separated
  std::uint64_t size = 0;  // bytes read (or lstat's size when files are not opened)
  std::string sha256;  // filled by the visitor; empty if it did not hash
  // The read stopped at its bound (declared size + 1, or size when opened + 1): the file is
  // larger than `size` says; it is reported as a size mismatch.
  bool truncated = false;
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
  // Some file was larger than its bound (WalkedFile::truncated): not read to its end.
  bool truncated() const;
  Json ToJson() const;
};

// A regular file handed to a visitor, opened read-only.
struct FileToRead {
  int fd = -1;
  std::uint64_t stat_size = 0;   // fstat's size when opened
  std::uint64_t read_limit = 0;  // read at most this many bytes (see the header comment)
  Env* env = nullptr;            // for the reads ("read")
};

class WalkVisitor {
 public:
  virtual ~WalkVisitor() = default;
  // Every entry found, with its lstat, before it is classified (the probe's fingerprint).
  virtual void OnEntry(const std::string& rel, const struct stat& st) {
    (void)rel;
    (void)st;
  }
  // A directory, before its contents. `rel` is "" for the bundle root.
  virtual Status OnDirectory(const std::string& rel) {
    (void)rel;
    return Status::Ok();
  }
  // A directory, after all of its contents.
  virtual Status OnLeaveDirectory(const std::string& rel) {
    (void)rel;
    return Status::Ok();
  }
  // A regular file, opened; fills out->size (bytes read), out->sha256 and out->truncated.
  // Not called when the walk does not open files.
  virtual Status OnFile(const std::string& rel, const FileToRead& file, WalkedFile* out) = 0;
  // After the last OnFile, with the report's files sorted by path: a visitor that finishes
  // files in the background fills in their sizes, hashes and truncation here, or fails with its
  // first error (in path order).
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
  Status OnFile(const std::string& rel, const FileToRead& file, WalkedFile* out) override;
  Status Finish(WalkReport& report) override;

 private:
  const std::atomic<bool>* cancelled_;
  std::unique_ptr<HashQueue> queue_;  // null with one thread
};

// Reads `file` up to its read_limit in blocks of `block_size` (at most kReadBlockSize, the
// default), calling `sink(data, n)` for each; returns the byte count read. Shared by hashing and
// copying so both read files the same way.
template <typename Sink>
Result<std::uint64_t> ReadAll(const FileToRead& file, const std::string& rel,
                              const std::atomic<bool>* cancelled, Sink&& sink,
                              std::size_t block_size);
template <typename Sink>
Result<std::uint64_t> ReadAll(const FileToRead& file, const std::string& rel,
                              const std::atomic<bool>* cancelled, Sink&& sink);

struct WalkOptions {
  // Declared sizes by path ([[files]]); null when there is no valid manifest.
  const std::map<std::string, std::uint64_t>* declared = nullptr;
  // false: classify and size files from lstat without opening them (readiness probe).
  bool open_files = true;
  Env* env = nullptr;  // null: the BundleDir's
};

// Walks `dir`. An operational failure (EIO, EMFILE, EACCES, a visitor error) is returned as a
// Status; unsafe entries and crossed limits are not errors but findings in the report.
Result<WalkReport> WalkBundle(const BundleDir& dir, const LimitsConfig& limits,
                              WalkVisitor& visitor, const WalkOptions& options = {});

// The [[files]] sizes of `files` as WalkOptions::declared wants them.
template <typename ManifestFiles>
std::map<std::string, std::uint64_t> DeclaredSizes(const ManifestFiles& files) {
  std::map<std::string, std::uint64_t> sizes;
  for (const auto& f : files) sizes[f.path] = f.size;
  return sizes;
}

}  // namespace bg

#include "agent/bundle/bundle_walk_inl.h"

#include "agent/bundle/bundle_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>

#include "agent/bundle/hash_queue.h"
#include "agent/core/errno_status.h"

namespace bg {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// Why an entry of this type may not be in a bundle; nullopt for a directory or a regular file
// with a single link. The one rule, for lstat (walking) and fstat (after opening) alike.
std::optional<std::string> UnsafeWhy(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return std::nullopt;
  if (!S_ISREG(st.st_mode)) return std::string(FileTypeName(st.st_mode));
  if (st.st_nlink > 1) return "hard link (" + std::to_string(st.st_nlink) + " links)";
  return std::nullopt;
}

class Walker {
 public:
  Walker(const LimitsConfig& limits, WalkVisitor& visitor, const WalkOptions& options, Env& env,
         WalkReport& report)
      : limits_(limits), visitor_(visitor), options_(options), env_(env), report_(report) {}

  // Walks the directory open at `dirfd` (consumed), whose relative path is `rel`.
  Status Walk(UniqueFd dirfd, const std::string& rel, std::int64_t depth) {
    BG_RETURN_IF_ERROR(visitor_.OnDirectory(rel));
    const std::string shown = rel.empty() ? std::string(".") : rel;
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dirfd.get()));
    if (!dir) return ErrnoStatus("opendir", shown);
    const int fd = dirfd.Release();  // owned by `dir` now

    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(dir.get())) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      names.emplace_back(e->d_name);
      if (++entries_ > limits_.max_files) {
        return Limit("more than " + std::to_string(limits_.max_files) + " entries");
      }
    }
    if (errno != 0) return ErrnoStatus("readdir", shown);
    std::sort(names.begin(), names.end());  // deterministic order, reports and copies alike

    for (const auto& name : names) {
      if (report_.limit_exceeded) return Status::Ok();
      const std::string child = rel.empty() ? name : rel + "/" + name;
      if (static_cast<std::int64_t>(child.size()) > limits_.max_path_length) {
        return Limit("path longer than " + std::to_string(limits_.max_path_length) +
                     " bytes: " + child.substr(0, 80) + "...");
      }
      struct stat st;
      if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) continue;  // vanished: the manifest comparison will say so
        return ErrnoStatus("stat", child);
      }
      visitor_.OnEntry(child, st);
      if (const auto why = UnsafeWhy(st)) {
        report_.unsafe.push_back({child, *why});
      } else if (S_ISDIR(st.st_mode)) {
        BG_RETURN_IF_ERROR(VisitDirectory(fd, name, child, depth));
      } else if (options_.open_files) {
        BG_RETURN_IF_ERROR(VisitFile(fd, name, child));
      } else {
        BG_RETURN_IF_ERROR(CountFile(child, static_cast<std::uint64_t>(st.st_size)));
      }
    }
    return visitor_.OnLeaveDirectory(rel);
  }

 private:
  Status VisitDirectory(int dirfd, const std::string& name, const std::string& child,
                        std::int64_t depth) {
    if (depth + 1 > limits_.max_depth) {
      return Limit("deeper than " + std::to_string(limits_.max_depth) + " levels: " + child);
    }
    auto sub = env_.OpenAt(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0, child);
    if (!sub.ok()) {
      const int err = sub.status().error_number();
      if (err == ELOOP || err == ENOTDIR) {
        report_.unsafe.push_back({child, "replaced while walking"});
        return Status::Ok();
      }
      if (err == ENOENT) return Status::Ok();  // vanished
      return sub.status().WithContext("open directory");
    }
    report_.directories.push_back(child);
    return Walk(std::move(sub).value(), child, depth + 1);
  }

  // A file seen by lstat only (open_files = false): its size, for limits and the report.
  Status CountFile(const std::string& child, std::uint64_t size) {
    if (report_.total_bytes + size > limits_.max_bundle_bytes) {
      return Limit("more than " + std::to_string(limits_.max_bundle_bytes) + " bytes in all");
    }
    WalkedFile walked;
    walked.path = child;
    walked.size = size;
    report_.total_bytes += size;
    report_.files.push_back(std::move(walked));
    return Status::Ok();
  }

  Status VisitFile(int dirfd, const std::string& name, const std::string& child) {
    // O_NONBLOCK: should the entry have become a fifo since fstatat, open must not hang.
    auto opened = env_.OpenAt(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0, child);
    if (!opened.ok()) {
      const int err = opened.status().error_number();
      if (err == ELOOP) {
        report_.unsafe.push_back({child, "symlink"});
        return Status::Ok();
      }
      if (err == ENOENT) return Status::Ok();
      return opened.status();
    }
    UniqueFd file = std::move(opened).value();
    struct stat st;
    if (::fstat(file.get(), &st) != 0) return ErrnoStatus("stat", child);
    if (const auto why = UnsafeWhy(st); why || !S_ISREG(st.st_mode)) {
      report_.unsafe.push_back({child, why.value_or("replaced while walking")});
      return Status::Ok();
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (report_.total_bytes + size > limits_.max_bundle_bytes) {
      return Limit("more than " + std::to_string(limits_.max_bundle_bytes) + " bytes in all");
    }
    ::fcntl(file.get(), F_SETFL, ::fcntl(file.get(), F_GETFL) & ~O_NONBLOCK);
    FileToRead to_read;
    to_read.fd = file.get();
    to_read.stat_size = size;
    to_read.read_limit = ReadLimit(child, size);
    to_read.env = &env_;
    WalkedFile walked;
    walked.path = child;
    BG_RETURN_IF_ERROR(visitor_.OnFile(child, to_read, &walked));
    walked.truncated = walked.size >= to_read.read_limit;
    report_.total_bytes += walked.size;
    report_.files.push_back(std::move(walked));
    return Status::Ok();
  }

  // Declared size + 1 for a listed file, size when opened + 1 for any other, within what is
  // left of max_bundle_bytes (+ 1): one byte more than expected is enough to know.
  std::uint64_t ReadLimit(const std::string& child, std::uint64_t stat_size) const {
    std::uint64_t expected = stat_size;
    if (options_.declared != nullptr) {
      const auto it = options_.declared->find(child);
      if (it != options_.declared->end()) expected = it->second;
    }
    const std::uint64_t left = limits_.max_bundle_bytes - report_.total_bytes;
    return std::min(expected, left) + 1;
  }

  Status Limit(std::string what) {
    if (!report_.limit_exceeded) report_.limit_exceeded = std::move(what);
    return Status::Ok();
  }

  const LimitsConfig& limits_;
  WalkVisitor& visitor_;
  const WalkOptions& options_;
  Env& env_;
  WalkReport& report_;
  std::uint64_t entries_ = 0;
};

}  // namespace

const WalkedFile* WalkReport::FindFile(std::string_view path) const {
  const auto it = std::lower_bound(files.begin(), files.end(), path,
                                   [](const WalkedFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
}

bool WalkReport::truncated() const {
  return std::any_of(files.begin(), files.end(), [](const WalkedFile& f) { return f.truncated; });
}

Json WalkReport::ToJson() const {
  Json unsafe_json = Json::array();
  for (const auto& u : unsafe) unsafe_json.push_back({{"path", u.path}, {"why", u.why}});
  Json j = {{"files", files.size()},
            {"directories", directories.size()},
            {"bytes", total_bytes},
            {"unsafe", unsafe_json}};
  if (limit_exceeded) j["limit_exceeded"] = *limit_exceeded;
  return j;
}

HashingVisitor::HashingVisitor(const std::atomic<bool>* cancelled, int threads)
    : cancelled_(cancelled),
      queue_(threads > 1 ? std::make_unique<HashQueue>(threads, cancelled) : nullptr) {}

HashingVisitor::~HashingVisitor() = default;

Status HashingVisitor::OnFile(const std::string& rel, const FileToRead& file, WalkedFile* out) {
  if (queue_ == nullptr) {
    BG_ASSIGN_OR_RETURN(FileHash hash, HashOpenFile(file, rel, cancelled_));
    out->size = hash.size;
    out->sha256 = std::move(hash.sha256);
    return Status::Ok();
  }
  // The same open file description, so what is hashed is what the walk opened and checked.
  UniqueFd dup(::fcntl(file.fd, F_DUPFD_CLOEXEC, 0));
  if (!dup) return ErrnoStatus("dup", rel);
  out->size = file.stat_size;  // until Finish knows what was read (and whether it was truncated)
  queue_->Add(rel, std::move(dup), file.read_limit, file.env);
  return Status::Ok();
}

Status HashingVisitor::Finish(WalkReport& report) {
  if (queue_ == nullptr) return Status::Ok();
  std::vector<HashQueue::Hashed> hashed = queue_->Drain();
  std::sort(hashed.begin(), hashed.end(),
            [](const HashQueue::Hashed& a, const HashQueue::Hashed& b) { return a.path < b.path; });
  for (auto& h : hashed) {
    if (!h.hash.ok()) return h.hash.status();
    const auto it = std::lower_bound(
        report.files.begin(), report.files.end(), h.path,
        [](const WalkedFile& f, const std::string& p) { return f.path < p; });
    if (it == report.files.end() || it->path != h.path) continue;  // cannot happen
    report.total_bytes += h.hash->size;
    report.total_bytes -= it->size;
    it->size = h.hash->size;
    it->sha256 = std::move(h.hash->sha256);
    it->truncated = h.hash->size >= h.read_limit;
  }
  return Status::Ok();
}

Result<WalkReport> WalkBundle(const BundleDir& dir, const LimitsConfig& limits,
                              WalkVisitor& visitor, const WalkOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  WalkReport report;
  Env& env = options.env != nullptr ? *options.env : dir.env();
  // A fresh open file description: readdir's offset must not be shared with other walks.
  BG_ASSIGN_OR_RETURN(UniqueFd fd, env.OpenAt(dir.fd(), ".", O_RDONLY | O_DIRECTORY, 0, dir.path()));
  Walker walker(limits, visitor, options, env, report);
  BG_RETURN_IF_ERROR(walker.Walk(std::move(fd), "", 0));
  std::sort(report.files.begin(), report.files.end(),
            [](const WalkedFile& a, const WalkedFile& b) { return a.path < b.path; });
  std::sort(report.directories.begin(), report.directories.end());
  BG_RETURN_IF_ERROR(visitor.Finish(report));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace bg

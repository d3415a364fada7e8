#include "agent/bundle/bundle_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "agent/bundle/hash_queue.h"

namespace bg {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

class Walker {
 public:
  Walker(const LimitsConfig& limits, WalkVisitor& visitor, WalkReport& report)
      : limits_(limits), visitor_(visitor), report_(report) {}

  // Walks the directory open at `dirfd` (consumed), whose relative path is `rel`.
  Status Walk(UniqueFd dirfd, const std::string& rel, std::int64_t depth) {
    BG_RETURN_IF_ERROR(visitor_.OnDirectory(rel));
    std::unique_ptr<DIR, DirCloser> dir(::fdopendir(dirfd.get()));
    if (!dir) return ErrnoStatus("opendir", rel.empty() ? "." : rel);
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
    if (errno != 0) return ErrnoStatus("readdir", rel.empty() ? "." : rel);
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
      if (S_ISDIR(st.st_mode)) {
        if (depth + 1 > limits_.max_depth) {
          return Limit("deeper than " + std::to_string(limits_.max_depth) + " levels: " + child);
        }
        const int sub = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) {
          if (errno == ELOOP || errno == ENOTDIR) {
            report_.unsafe.push_back({child, "replaced while walking"});
            continue;
          }
          return ErrnoStatus("open directory", child);
        }
        report_.directories.push_back(child);
        BG_RETURN_IF_ERROR(Walk(UniqueFd(sub), child, depth + 1));
      } else if (S_ISREG(st.st_mode)) {
        BG_RETURN_IF_ERROR(VisitFile(fd, name, child));
      } else {
        report_.unsafe.push_back({child, std::string(FileTypeName(st.st_mode))});
      }
    }
    return Status::Ok();
  }

 private:
  Status VisitFile(int dirfd, const std::string& name, const std::string& child) {
    // O_NONBLOCK: should the entry have become a fifo since fstatat, open must not hang.
    const int raw = ::openat(dirfd, name.c_str(),
                             O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (raw < 0) {
      if (errno == ELOOP) {
        report_.unsafe.push_back({child, "symlink"});
        return Status::Ok();
      }
      if (errno == ENOENT) return Status::Ok();
      return ErrnoStatus("open", child);
    }
    UniqueFd file(raw);
    struct stat st;
    if (::fstat(file.get(), &st) != 0) return ErrnoStatus("stat", child);
    if (!S_ISREG(st.st_mode)) {
      report_.unsafe.push_back({child, std::string(FileTypeName(st.st_mode))});
      return Status::Ok();
    }
    if (st.st_nlink > 1) {
      report_.unsafe.push_back({child, "hard link (" + std::to_string(st.st_nlink) + " links)"});
      return Status::Ok();
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (report_.total_bytes + size > limits_.max_bundle_bytes) {
      return Limit("more than " + std::to_string(limits_.max_bundle_bytes) + " bytes in all");
    }
    ::fcntl(file.get(), F_SETFL, ::fcntl(file.get(), F_GETFL) & ~O_NONBLOCK);
    WalkedFile walked;
    walked.path = child;
    BG_RETURN_IF_ERROR(visitor_.OnFile(child, file.get(), size, &walked));
    report_.total_bytes += walked.size;
    report_.files.push_back(std::move(walked));
    return Status::Ok();
  }

  Status Limit(std::string what) {
    if (!report_.limit_exceeded) report_.limit_exceeded = std::move(what);
    return Status::Ok();
  }

  const LimitsConfig& limits_;
  WalkVisitor& visitor_;
  WalkReport& report_;
  std::uint64_t entries_ = 0;
};

}  // namespace

const WalkedFile* WalkReport::FindFile(std::string_view path) const {
  const auto it = std::lower_bound(files.begin(), files.end(), path,
                                   [](const WalkedFile& f, std::string_view p) { return f.path < p; });
  return it != files.end() && it->path == path ? &*it : nullptr;
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

Status HashingVisitor::OnFile(const std::string& rel, int fd, std::uint64_t stat_size,
                              WalkedFile* out) {
  if (queue_ == nullptr) {
    BG_ASSIGN_OR_RETURN(FileHash hash, HashOpenFile(fd, rel, cancelled_));
    out->size = hash.size;
    out->sha256 = std::move(hash.sha256);
    return Status::Ok();
  }
  // The same open file description, so what is hashed is what the walk opened and checked.
  UniqueFd dup(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (!dup) return ErrnoStatus("dup", rel);
  out->size = stat_size;  // until Finish knows what was read
  queue_->Add(rel, std::move(dup));
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
  }
  return Status::Ok();
}

Result<WalkReport> WalkBundle(const BundleDir& dir, const LimitsConfig& limits,
                              WalkVisitor& visitor) {
  const auto start = std::chrono::steady_clock::now();
  WalkReport report;
  // A fresh open file description: readdir's offset must not be shared with other walks.
  const int fd = ::openat(dir.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir.path());
  Walker walker(limits, visitor, report);
  BG_RETURN_IF_ERROR(walker.Walk(UniqueFd(fd), "", 0));
  std::sort(report.files.begin(), report.files.end(),
            [](const WalkedFile& a, const WalkedFile& b) { return a.path < b.path; });
  std::sort(report.directories.begin(), report.directories.end());
  BG_RETURN_IF_ERROR(visitor.Finish(report));
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace bg

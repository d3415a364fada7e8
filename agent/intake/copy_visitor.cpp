#include "agent/intake/copy_visitor.h"

#include <fcntl.h>

#include <optional>

#include "agent/core/sha256.h"

namespace bg {
namespace {

std::string Parent(const std::string& rel) {
  const auto slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string Base(const std::string& rel) {
  const auto slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

}  // namespace

CopyVisitor::CopyVisitor(int dest_fd, std::string dest_path, Env& env,
                         const std::atomic<bool>* cancelled)
    : dest_fd_(dest_fd), dest_path_(std::move(dest_path)), env_(env), cancelled_(cancelled),
      fsyncs_(env) {}

int CopyVisitor::DirFd(const std::string& rel_dir) const {
  if (rel_dir.empty()) return dest_fd_;
  const auto it = dirs_.find(rel_dir);
  return it == dirs_.end() ? -1 : it->second.get();
}

Status CopyVisitor::OnDirectory(const std::string& rel) {
  if (rel.empty()) return Status::Ok();
  const int parent = DirFd(Parent(rel));
  const std::string path = dest_path_ + "/" + rel;
  BG_RETURN_IF_ERROR(env_.MakeDirAt(parent, Base(rel), 0755, path));
  // Opened before anything is created in it: its fsync then covers every entry made.
  BG_ASSIGN_OR_RETURN(dirs_[rel], env_.OpenAt(parent, Base(rel), O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
                                              0, path));
  return Status::Ok();
}

Status CopyVisitor::OnLeaveDirectory(const std::string& rel) {
  if (rel.empty()) return Status::Ok();  // the caller holds and syncs the root
  const auto it = dirs_.find(rel);
  if (it == dirs_.end()) return Status::Error("copy: directory " + rel + " was never opened");
  Status st = env_.Fsync(it->second.get(), dest_path_ + "/" + rel);
  dirs_.erase(it);
  return st;
}

Status CopyVisitor::OnFile(const std::string& rel, const FileToRead& file, WalkedFile* out) {
  const std::string path = dest_path_ + "/" + rel;
  BG_ASSIGN_OR_RETURN(UniqueFd dest,
                      env_.OpenAt(DirFd(Parent(rel)), Base(rel),
                                  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0644, path));
  // Reflinked or copied by the kernel where the filesystems can (clone_file.h).
  CloneOptions how;
  how.best = best_;
  how.limit = file.read_limit;
  how.cancelled = cancelled_;
  BG_ASSIGN_OR_RETURN(std::optional<ClonedFile> fast, CloneFast(file.fd, dest.get(), rel, how));
  if (fast) {
    ++methods_[static_cast<int>(fast->method)];
    BG_RETURN_IF_ERROR(env_.Fchmod(dest.get(), 0444, path));
    out->size = fast->size;
    out->sha256 = std::move(fast->sha256);
    return fsyncs_.Add(std::move(dest), path);
  }
  ++methods_[static_cast<int>(CopyMethod::kReadWrite)];
  const std::uint64_t expected = std::min(file.stat_size, file.read_limit);
  BG_RETURN_IF_ERROR(env_.Allocate(dest.get(), static_cast<off_t>(expected), path));
  Sha256 hash;
  auto read = ReadAll(file, rel, cancelled_, [&](const char* data, std::size_t n) {
    hash.Update(data, n);
    return env_.WriteAll(dest.get(), std::string_view(data, n), path);
  });
  if (!read.ok()) return read.status();
  // A file that shrank while being copied must not keep fallocate's tail.
  if (*read < expected) BG_RETURN_IF_ERROR(env_.Truncate(dest.get(), static_cast<off_t>(*read), path));
  BG_RETURN_IF_ERROR(env_.Fchmod(dest.get(), 0444, path));
  out->size = *read;
  out->sha256 = hash.FinalHex();
  // Durable on the descriptor that wrote it; an earlier file's failed sync stops the copy.
  return fsyncs_.Add(std::move(dest), path);
}

Status CopyVisitor::FinishSyncs() { return fsyncs_.Finish(); }

Json CopyVisitor::MethodCounts() const {
  Json j = Json::object();
  for (int m = 0; m < 3; ++m) {
    if (methods_[m] > 0) j[std::string(CopyMethodName(static_cast<CopyMethod>(m)))] = methods_[m];
  }
  return j;
}

}  // namespace bg

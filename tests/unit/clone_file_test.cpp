// CloneFile (agent/intake/clone_file.h) on real filesystems: a loop-mounted XFS image with
// reflinks (the O(1) path), tmpfs (no reflinks: copy_file_range), across filesystems (read/write)
// and a full disk. Each test checks the bytes and digest of the copy, and the means reported.
#include "agent/intake/clone_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/core/sha256.h"
#include "agent/core/unique_fd.h"
#include "tests/support/loop_fs.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

UniqueFd OpenSrc(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  REQUIRE(fd);
  return fd;
}

UniqueFd CreateDst(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  REQUIRE(fd);
  return fd;
}

Result<ClonedFile> Clone(const std::string& from, const std::string& to, CloneOptions o = {}) {
  UniqueFd src = OpenSrc(from);
  UniqueFd dst = CreateDst(to);
  return CloneFile(src.get(), dst.get(), "f", o);
}

// A directory on /dev/shm (tmpfs), removed at the end; empty when there is none.
struct ShmDir {
  ShmDir() {
    std::string templ = "/dev/shm/bundlegate-clone-XXXXXX";
    if (::mkdtemp(templ.data()) != nullptr) path = templ;
  }
  ~ShmDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
  std::string path;
};

}  // namespace

TEST_CASE("clone on XFS with reflinks shares extents and is immune to the producer's rewrite") {
  LoopFs xfs("xfs-reflink");
  if (!xfs.ok()) {
    WARN("skipped: " << xfs.why());
    return;
  }
  const std::string original = RandomBytes(3 << 20, 1);
  const std::string src = xfs.path() + "/model.pt";
  WriteFile(src, original);
  auto c = Clone(src, xfs.path() + "/copy.pt");
  REQUIRE(c.ok());
  CHECK(c->method == CopyMethod::kReflink);
  CHECK(c->size == original.size());
  CHECK(c->sha256 == Sha256Hex(original));
  CHECK(AllExtentsShared(xfs.path() + "/copy.pt"));

  // The producer rewrites the file in place after the copy (same inode, as an open descriptor
  // would): the copy keeps what was cloned.
  {
    UniqueFd w(::open(src.c_str(), O_WRONLY | O_CLOEXEC));
    REQUIRE(w);
    const std::string evil(1 << 20, 'X');
    REQUIRE(::pwrite(w.get(), evil.data(), evil.size(), 4096) == static_cast<ssize_t>(evil.size()));
    REQUIRE(::fsync(w.get()) == 0);
  }
  CHECK(ReadFile(src) != original);
  CHECK(ReadFile(xfs.path() + "/copy.pt") == original);
  CHECK(Sha256Hex(ReadFile(xfs.path() + "/copy.pt")) == c->sha256);
}

TEST_CASE("clone on XFS honours the copy's bound and the forced fallbacks") {
  LoopFs xfs("xfs-reflink");
  if (!xfs.ok()) {
    WARN("skipped: " << xfs.why());
    return;
  }
  const std::string data = RandomBytes(1 << 20, 2);
  const std::string src = xfs.path() + "/w.bin";
  WriteFile(src, data);
  int n = 0;
  for (CopyMethod best : {CopyMethod::kReflink, CopyMethod::kCopyRange, CopyMethod::kReadWrite}) {
    CAPTURE(CopyMethodName(best));
    CloneOptions o;
    o.best = best;
    o.limit = 100000;  // a source longer than declared is copied to its bound, no further
    const std::string dst = xfs.path() + "/bounded" + std::to_string(n++);
    auto c = Clone(src, dst, o);
    REQUIRE(c.ok());
    CHECK(c->method == best);
    CHECK(c->size == 100000);
    CHECK(c->sha256 == Sha256Hex(data.substr(0, 100000)));
    CHECK(ReadFile(dst) == data.substr(0, 100000));
  }
  CloneOptions o;
  o.best = CopyMethod::kReadWrite;
  o.size_hint = 8 << 20;  // reserved more than it holds (it shrank): the tail is cut
  auto c = Clone(src, xfs.path() + "/shrunk", o);
  REQUIRE(c.ok());
  CHECK(ReadFile(xfs.path() + "/shrunk") == data);
  CHECK(std::filesystem::file_size(xfs.path() + "/shrunk") == data.size());
}

TEST_CASE("clone on tmpfs falls back to copy_file_range, across filesystems to read/write") {
  ShmDir shm;
  if (shm.path.empty()) {
    WARN("skipped: no /dev/shm here");
    return;
  }
  TempDir other;  // the root filesystem, not tmpfs
  const std::string data = RandomBytes((2 << 20) + 123, 3);
  WriteFile(shm.path + "/src", data);

  auto same = Clone(shm.path + "/src", shm.path + "/dst");
  REQUIRE(same.ok());
  CHECK(same->method == CopyMethod::kCopyRange);  // tmpfs has no reflinks
  CHECK(same->sha256 == Sha256Hex(data));
  CHECK(ReadFile(shm.path + "/dst") == data);

  auto across = Clone(shm.path + "/src", other / "dst");
  REQUIRE(across.ok());
  CHECK(across->method == CopyMethod::kReadWrite);  // copy_file_range refuses EXDEV
  CHECK(across->size == data.size());
  CHECK(across->sha256 == Sha256Hex(data));
  CHECK(ReadFile(other / "dst") == data);

  WriteFile(shm.path + "/empty", "");
  auto empty = Clone(shm.path + "/empty", shm.path + "/empty2");
  REQUIRE(empty.ok());
  CHECK(empty->size == 0);
  CHECK(empty->sha256 == Sha256Hex(""));
}

TEST_CASE("clone reports a full disk as an error, not as a short copy") {
  LoopFs xfs("xfs-reflink");
  ShmDir shm;
  if (!xfs.ok() || shm.path.empty()) {
    WARN("skipped: " << (xfs.ok() ? std::string("no /dev/shm") : xfs.why()));
    return;
  }
  // The copies are created first (a full XFS refuses new inodes too), then the filesystem is
  // filled (files of shrinking sizes: XFS allocates within one allocation group), then a file
  // is copied into it from another filesystem (no reflink possible).
  WriteFile(shm.path + "/big", RandomBytes(80 << 20, 4));
  UniqueFd dsts[2] = {CreateDst(xfs.path() + "/copy0"), CreateDst(xfs.path() + "/copy1")};
  int files = 0;
  for (off_t step = 16 << 20; step >= 256 << 10; step /= 4) {
    while (true) {
      UniqueFd fill(::open((xfs.path() + "/fill" + std::to_string(files++)).c_str(),
                           O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
      if (!fill || ::posix_fallocate(fill.get(), 0, step) != 0) break;  // full
    }
  }
  for (int i = 0; i < 2; ++i) {
    CAPTURE(i);
    CloneOptions o;
    o.size_hint = i == 0 ? 0 : std::uint64_t{80} << 20;  // without and with fallocate first
    UniqueFd src = OpenSrc(shm.path + "/big");
    auto c = CloneFile(src.get(), dsts[i].get(), "big", o);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find("No space left") != std::string::npos);
  }
}

TEST_CASE("clone stops when cancelled") {
  TempDir dir;
  WriteFile(dir / "src", RandomBytes(1 << 20, 5));
  std::atomic<bool> cancelled{true};
  for (CopyMethod best : {CopyMethod::kCopyRange, CopyMethod::kReadWrite}) {
    CloneOptions o;
    o.best = best;
    o.cancelled = &cancelled;
    auto c = Clone(dir / "src", dir / ("dst" + std::to_string(static_cast<int>(best))), o);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find("cancelled") != std::string::npos);
  }
}

TEST_CASE("clone's read/write path writes through the given writer, and returns its failure") {
  TempDir dir;
  const std::string data = RandomBytes((300 << 10) + 7, 6);
  WriteFile(dir / "src", data);
  std::string written;
  CloneOptions o;
  o.best = CopyMethod::kReadWrite;
  o.write_all = [&](int fd, std::string_view bytes) {
    written.append(bytes);
    return ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())
               ? Status::Ok()
               : Status::Error("short write");
  };
  auto c = Clone(dir / "src", dir / "dst", o);
  REQUIRE(c.ok());
  CHECK(written == data);
  CHECK(ReadFile(dir / "dst") == data);
  CHECK(c->sha256 == Sha256Hex(data));

  o.write_all = [](int, std::string_view) { return Status::Error("injected: write failed"); };
  auto failed = Clone(dir / "src", dir / "dst2", o);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.status().message() == "injected: write failed");
}

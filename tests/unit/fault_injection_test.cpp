// Fault injection (agent/core/fault_injection.h) through the real Env: rules read from a file
// this test binary names before main() (BUNDLEGATE_FAULT_FILE), rewritten by each test case.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <thread>

#include "agent/core/env.h"
#include "agent/core/errno_status.h"
#include "agent/core/fault_injection.h"
#include "tests/support/temp_dir.h"

using namespace bg;

namespace {

const std::string& RulesFile() {
  static const std::string path = "/tmp/bundlegate-unit-faults-" + std::to_string(::getpid());
  return path;
}
const std::string& TraceFile() {
  static const std::string path = RulesFile() + ".trace";
  return path;
}
// Before main(): the fault state reads its variables once, at the first Env operation.
const bool kVariablesSet = [] {
  ::setenv("BUNDLEGATE_FAULT_FILE", RulesFile().c_str(), 1);
  ::setenv("BUNDLEGATE_FAULT_TRACE", TraceFile().c_str(), 1);
  return true;
}();

// The trace would outlive the test binary otherwise.
struct RemoveTraceAtExit {
  ~RemoveTraceAtExit() { std::filesystem::remove(TraceFile()); }
} remove_trace_at_exit;

// Replaces the rules (a new inode: the change is seen at the next operation).
void SetRules(const std::string& rules) {
  const std::string tmp = RulesFile() + ".new";
  test::WriteFile(tmp, rules);
  REQUIRE(::rename(tmp.c_str(), RulesFile().c_str()) == 0);
}

struct ClearRules {
  ~ClearRules() { std::filesystem::remove(RulesFile()); }
};

Status WriteSome(const std::string& path) {
  auto fd = Env::Default().Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd.ok()) return fd.status();
  return Env::Default().WriteAll(fd->get(), "data", path);
}

}  // namespace

TEST_CASE("errno names parse both ways") {
  CHECK(ErrnoName(ENOSPC) == "ENOSPC");
  CHECK(ParseErrno("EIO") == EIO);
  CHECK(ParseErrno("13") == EACCES);
  CHECK_FALSE(ParseErrno("ENOTANERRNO").has_value());
  CHECK_FALSE(ParseErrno("").has_value());
  CHECK(ErrnoStatus("open", "/x", EMFILE).error_number() == EMFILE);
  CHECK(ErrnoStatus("open", "/x", EMFILE).WithContext("c").error_number() == EMFILE);
  CHECK_FALSE(ErrnoStatus("open", "/x", EMFILE).IsVerdict());
}

TEST_CASE("a rule fails the named operation on matching paths only, with its errno") {
  REQUIRE(kVariablesSet);
  ClearRules clear;
  test::TempDir tmp;
  SetRules("write:ENOSPC@victim\n");
  Status st = WriteSome(tmp / "victim.txt");
  CHECK_FALSE(st.ok());
  CHECK(st.error_number() == ENOSPC);
  CHECK(st.message().find("victim.txt") != std::string::npos);
  CHECK(WriteSome(tmp / "victim.txt").ok());  // count 1 by default
  CHECK(WriteSome(tmp / "bystander.txt").ok());
  REQUIRE(FaultInjectionActive());
}

TEST_CASE("nth and count pick which calls fail, and count 0 is forever") {
  ClearRules clear;
  test::TempDir tmp;
  Env& env = Env::Default();
  SetRules("mkdir:EIO:2:2@/d");
  CHECK(env.MakeDir(tmp / "d1", 0755, false).ok());
  CHECK(env.MakeDir(tmp / "d2", 0755, false).error_number() == EIO);
  CHECK(env.MakeDir(tmp / "d3", 0755, false).error_number() == EIO);
  CHECK(env.MakeDir(tmp / "d4", 0755, false).ok());
  SetRules("rename:EACCES:1:0");  // a new file: counters restart
  for (int i = 0; i < 3; ++i) {
    CHECK(env.Rename(tmp / "d1", tmp / "e1", RenameMode::kNoReplace).error_number() == EACCES);
  }
  SetRules("");
  CHECK(env.Rename(tmp / "d1", tmp / "e1", RenameMode::kNoReplace).ok());
}

TEST_CASE("a pattern with * is a glob over the whole path, and several rules apply at once") {
  ClearRules clear;
  test::TempDir tmp;
  std::filesystem::create_directories(tmp / "work/abc/bundle");
  SetRules("open:EMFILE:1:0@*/work/*/bundle/*, fsync:EIO:1:0@*.dat");
  auto fd = Env::Default().Open(tmp / "work/abc/bundle/f", O_WRONLY | O_CREAT, 0644);
  CHECK(fd.status().error_number() == EMFILE);
  auto other = Env::Default().Open(tmp / "work/abc/f.dat", O_WRONLY | O_CREAT, 0644);
  REQUIRE(other.ok());
  CHECK(Env::Default().Fsync(other->get(), tmp / "work/abc/f.dat").error_number() == EIO);
}

TEST_CASE("a malformed spec is ignored whole, never half-applied") {
  ClearRules clear;
  test::TempDir tmp;
  SetRules("write:ENOSPC@a\nwrite:NOTANERRNO@b\n");
  CHECK(WriteSome(tmp / "a").ok());
  CHECK(WriteSome(tmp / "b").ok());
}

TEST_CASE("a failed fsync in WriteFileAtomic leaves the old content and no temporary file") {
  ClearRules clear;
  test::TempDir tmp;
  Env& env = Env::Default();
  REQUIRE(env.WriteFileAtomic(tmp / "record.json", "old", 0644).ok());
  SetRules("fsync:EIO@record.json.tmp");
  Status st = env.WriteFileAtomic(tmp / "record.json", "new", 0644);
  CHECK(st.error_number() == EIO);
  CHECK(test::ReadFile(tmp / "record.json") == "old");
  std::size_t entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
  // Calling again writes a fresh file (the count is spent): the new content lands.
  REQUIRE(env.WriteFileAtomic(tmp / "record.json", "new", 0644).ok());
  CHECK(test::ReadFile(tmp / "record.json") == "new");
}

TEST_CASE("the trace lists every operation with its path") {
  ClearRules clear;
  test::TempDir tmp;
  REQUIRE(Env::Default().MakeDir(tmp / "traced-dir", 0755, false).ok());
  const std::string trace = test::ReadFile(TraceFile());
  CHECK(trace.find("mkdir\t" + (tmp / "traced-dir") + "\n") != std::string::npos);
}

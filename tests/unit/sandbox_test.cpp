// The sandbox library (agent/sandbox/sandbox.h) with real processes and the real kernel: each
// layer's effect seen from inside (what the payload can do) and from outside (/proc), the
// in-process payload a warm worker would use, required layers failing closed, and the same as an
// unprivileged caller. Layers this kernel or host refuses are reported, and the tests say so
// rather than pretend.
#include "agent/sandbox/sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/sandbox/process_isolation.h"
#include "tests/support/temp_dir.h"

using namespace bg::sandbox;
using namespace bg::test;

namespace {

Spec FullSpec() {
  Spec spec;
  spec.exec_paths = {"/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc", "/sys"};
  spec.uid = 65534;
  spec.gid = 65534;
  spec.address_space_bytes = 4ull << 30;
  spec.tmp_bytes = 8ull << 20;
  return spec;
}

struct Run {
  int status = -1;
  std::string out;
  Report report{};
  bool got_report = false;
  std::vector<LayerOutcome> layers;
  std::string fatal;
  pid_t pid = -1;

  bool exited(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
  LayerState state(Layer l) const { return report.of(l).state; }
  std::string Explain() const {
    std::string s = "status " + std::to_string(status) + " fatal '" + fatal + "'\n";
    for (const auto& l : layers) {
      s += "  " + l.name + ": " + std::to_string(static_cast<int>(l.state)) + " " + l.why + "\n";
    }
    return s + "out: " + out;
  }
};

using Payload = std::function<int()>;  // runs in the payload process; its return is the exit code

// Prepares `spec`, forks, enters the sandbox and runs `payload` (in-process, as a warm worker's
// child would) or execs `argv`. `while_running` is called with the first process's pid while the
// payload runs (the payload should wait for it: it gets fd 3 readable at EOF when done).
Run RunSandboxed(const Spec& spec, const Payload& payload, const std::vector<std::string>& argv = {},
                 const std::function<void(pid_t)>& while_running = {}) {
  Run run;
  std::string error;
  auto sandbox = PreparedSandbox::Prepare(spec, &error);
  INFO(error);
  REQUIRE(sandbox);
  int out[2], rep[2], gate[2];
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(rep, O_CLOEXEC) == 0);
  REQUIRE(::pipe(gate) == 0);
  std::vector<char*> args;
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);
  std::fflush(nullptr);  // nothing of the test's buffered output may reach the payload's pipe
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(gate[0], 3);
    ::dup2(rep[1], 4);
    ::syscall(SYS_close_range, 5u, ~0u, 0u);
    Report r;
    const bool ok = sandbox->Enter(&r);
    ::write(4, &r, sizeof r);
    if (!ok) ::_exit(127);
    ::close(4);
    if (!argv.empty()) {
      char tmpdir[4200];
      std::snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", sandbox->TmpDir(r));
      char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), tmpdir, nullptr};
      ::execve(args[0], args.data(), envp);
      ::_exit(126);
    }
    ::setenv("TMPDIR", sandbox->TmpDir(r), 1);
    std::fflush(stdout);
    const int code = payload();
    std::fflush(stdout);
    ::_exit(code);
  }
  run.pid = pid;
  ::close(out[1]);
  ::close(rep[1]);
  ::close(gate[0]);
  if (while_running) {
    while_running(pid);
  }
  ::close(gate[1]);
  ssize_t n = ::read(rep[0], &run.report, sizeof run.report);
  run.got_report = n == static_cast<ssize_t>(sizeof run.report);
  char buf[4096];
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) run.out.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  ::close(rep[0]);
  REQUIRE(::waitpid(pid, &run.status, 0) == pid);
  if (run.got_report) {
    run.layers = sandbox->Describe(run.report);
    run.fatal = sandbox->DescribeFatal(run.report);
  }
  return run;
}

void WaitForGate() {
  char c;
  while (::read(3, &c, 1) > 0) {
  }
}

bool Applied(const Run& r, Layer l) { return r.state(l) == LayerState::kApplied; }

bool UserNamespacesWork() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(::unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? 0 : 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Dead or a zombie: no longer running.
bool Gone(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field, comm, state;
    stat >> field >> comm >> state;
    if (state.empty() || state == "Z" || state == "X") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

// Every process on the host whose name is `comm`.
std::vector<pid_t> ProcessesNamed(const std::string& comm) {
  std::vector<pid_t> out;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "comm");
    std::string c;
    std::getline(in, c);
    if (c == comm) out.push_back(std::stoi(name));
  }
  return out;
}

}  // namespace

TEST_CASE("sandbox: layer names parse and unknown ones do not") {
  for (int i = 0; i < kLayerCount; ++i) {
    Layer l;
    REQUIRE(ParseLayerName(LayerName(static_cast<Layer>(i)), &l));
    CHECK(static_cast<int>(l) == i);
  }
  Layer l;
  CHECK_FALSE(ParseLayerName("apparmor", &l));
  CHECK(LayerSet::All().Names().size() == kLayerCount);
}

TEST_CASE("sandbox: the full sandbox as root: every layer this host allows, seen from outside") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root"); return; };
  const Run r = RunSandboxed(FullSpec(), [] {
    WaitForGate();
    std::printf("uid=%d\n", static_cast<int>(::getuid()));
    return 0;
  }, {}, [](pid_t first) {
    pid_t payload = -1;
    for (int i = 0; i < 500 && payload < 0; ++i) {
      payload = FindSandboxPayload(first);
      if (payload < 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(payload > 0);
    const ProcessIsolation iso = ReadProcessIsolation(payload);
    CHECK(iso.Confined());
    CHECK(iso.uid == 65534);
    CHECK(iso.cap_bnd == 0);
    CHECK(iso.seccomp_mode == 2);
    CHECK(iso.no_new_privs);
    CHECK(iso.ns_readable);
    CHECK(iso.own_mnt);
    CHECK(iso.own_pid);
    CHECK(iso.own_net);
  });
  INFO(r.Explain());
  CHECK(r.exited(0));
  CHECK(r.out == "uid=65534\n");
  for (Layer l : {Layer::kMount, Layer::kPid, Layer::kNetwork, Layer::kUser, Layer::kRlimit,
                  Layer::kSeccomp}) {
    CHECK(Applied(r, l));
  }
  if (LandlockAbi() > 0) CHECK(Applied(r, Layer::kLandlock));
  CHECK(r.state(Layer::kCgroup) == LayerState::kNotApplied);  // no parent given
}

TEST_CASE("sandbox: the view shows the exec and data paths only, the data read-only") {
  TempDir tmp;
  WriteFile(tmp / "bundle/model.pt", "weights");
  WriteFile(tmp / "secret/key", "hunter2");
  ::chmod(tmp.path().c_str(), 0755);
  Spec spec = FullSpec();
  spec.data_paths = {tmp / "bundle"};
  const Run r = RunSandboxed(spec, {}, {"/bin/sh", "-c",
      "cat " + (tmp / "bundle/model.pt") + "; echo;"
      "cat " + (tmp / "secret/key") + " 2>/dev/null || echo no-secret;"
      "echo x >> " + (tmp / "bundle/model.pt") + " 2>/dev/null || echo bundle-read-only;"
      "ls /home /root /var /run 2>/dev/null | wc -l;"
      "echo t > $TMPDIR/t && echo tmp-writable; echo $TMPDIR"});
  INFO(r.Explain());
  REQUIRE(r.exited(0));
  CHECK_THAT(r.out, Catch::StartsWith("weights\nno-secret\nbundle-read-only\n0\ntmp-writable\n"));
  if (Applied(r, Layer::kMount)) CHECK_THAT(r.out, Catch::EndsWith("/tmp\n"));
  CHECK(ReadFile(tmp / "bundle/model.pt") == "weights");
}

// The agent's config directory inside /etc: hidden by both filesystem layers, each on its own.
TEST_CASE("sandbox: a masked directory and file inside an exec path are not shown") {
  TempDir tmp;
  WriteFile(tmp / "etc/ld.conf", "shown");
  WriteFile(tmp / "etc/sub/deep.conf", "shown too");
  WriteFile(tmp / "etc/bundlegate/bundlegate.toml", "config");
  WriteFile(tmp / "etc/bundlegate/keys/release.key", "hunter2");
  WriteFile(tmp / "etc/other.key", "hunter3");
  std::filesystem::create_symlink(tmp / "etc/bundlegate/bundlegate.toml", tmp / "etc/link.toml");
  ::chmod(tmp.path().c_str(), 0755);
  const std::string script =
      "for f in ld.conf sub/deep.conf bundlegate/bundlegate.toml bundlegate/keys/release.key "
      "other.key link.toml; do cat " + (tmp / "etc/") + "$f 2>/dev/null || echo \"no $f\"; "
      "echo; done; ls " + (tmp / "etc/bundlegate") + " 2>/dev/null | wc -l";
  const std::string expected = "shown\nshown too\nno bundlegate/bundlegate.toml\n\n"
                               "no bundlegate/keys/release.key\n\nno other.key\n\n"
                               "no link.toml\n\n0\n";
  Spec spec = FullSpec();
  spec.exec_paths.push_back(tmp / "etc");
  spec.masked_paths = {tmp / "etc/bundlegate", tmp / "etc/other.key", tmp / "etc/absent"};
  SECTION("all layers") {
    const Run r = RunSandboxed(spec, {}, {"/bin/sh", "-c", script});
    INFO(r.Explain());
    REQUIRE(r.exited(0));
    CHECK(r.out == expected);
  }
  SECTION("Landlock alone") {
    if (LandlockAbi() <= 0) { WARN("skipped: no Landlock"); return; }
    spec.layers = LayerSet::Of({Layer::kLandlock, Layer::kRlimit, Layer::kSeccomp});
    const Run r = RunSandboxed(spec, {}, {"/bin/sh", "-c", script});
    INFO(r.Explain());
    REQUIRE(r.exited(0));
    REQUIRE(Applied(r, Layer::kLandlock));
    CHECK(r.out == expected);
  }
  SECTION("a mask may not hide what the view must show") {
    spec.masked_paths = {tmp.path()};
    std::string error;
    CHECK_FALSE(PreparedSandbox::Prepare(spec, &error));
    CHECK_THAT(error, Catch::Contains("cannot hide"));
  }
}

// The warm worker's API (sandbox.h, "Two callers"): a worker under WarmWorkerSpec serves two
// requests, each in a child forked from it that enters RequestSpec: nested namespaces, its own
// bundle only, every layer of a cold run but the cgroup.
TEST_CASE("sandbox: a warm worker's request children nest, each seeing its own bundle only") {
  if (!UserNamespacesWork()) { WARN("skipped: " "no unprivileged user namespaces to nest"); return; };
  TempDir tmp;
  WriteFile(tmp / "work/b1/model.pt", "one");
  WriteFile(tmp / "work/b2/model.pt", "two");
  for (const char* d : {"", "/work", "/work/b1", "/work/b2"}) ::chmod((tmp.path() + d).c_str(), 0755);
  const Spec run = FullSpec();
  const Spec worker = WarmWorkerSpec(run, tmp / "work");
  CHECK_FALSE(worker.layers.Has(Layer::kSeccomp));
  CHECK_FALSE(worker.layers.Has(Layer::kLandlock));
  const std::string work = tmp / "work";
  const Run r = RunSandboxed(worker, [&work] {
    for (const std::string b : {"b1", "b2"}) {
      const std::string other = b == "b1" ? "b2" : "b1";
      std::string error;
      auto request = PreparedSandbox::Prepare(RequestSpec(FullSpec(), work + "/" + b), &error);
      if (!request) {
        std::printf("%s: prepare: %s\n", b.c_str(), error.c_str());
        continue;
      }
      int rep[2];
      if (::pipe2(rep, O_CLOEXEC) != 0) return 1;
      std::fflush(stdout);
      const pid_t child = ::fork();
      if (child == 0) {
        Report report;
        const bool ok = request->Enter(&report);
        ::write(rep[1], &report, sizeof report);
        if (!ok) ::_exit(127);
        auto read = [](const std::string& path) {
          std::ifstream in(path);
          std::string text;
          return std::getline(in, text) ? text : std::string("hidden");
        };
        std::printf("%s: own=%s other=%s pid=%d\n", b.c_str(), read(work + "/" + b + "/model.pt").c_str(),
                    read(work + "/" + other + "/model.pt").c_str(), static_cast<int>(::getpid()));
        std::fflush(stdout);
        ::_exit(0);
      }
      ::close(rep[1]);
      Report report{};
      const bool got = ::read(rep[0], &report, sizeof report) == sizeof report;
      ::close(rep[0]);
      int status = 0;
      ::waitpid(child, &status, 0);
      if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::printf("%s: status %d: %s\n", b.c_str(), status, request->DescribeFatal(report).c_str());
      }
      for (const auto& o : request->Describe(report)) {
        if (o.state != LayerState::kApplied) std::printf("%s: %s not applied\n", b.c_str(), o.name.c_str());
      }
    }
    return 0;
  });
  INFO(r.Explain());
  REQUIRE(r.exited(0));
  for (Layer l : {Layer::kMount, Layer::kPid, Layer::kNetwork, Layer::kUser, Layer::kRlimit}) {
    CHECK(Applied(r, l));  // the worker's own
  }
  // In report order: mount, landlock, pid, seccomp, user, cgroup...
  const std::string landlock = LandlockAbi() > 0 ? "" : ": landlock not applied\n";
  CHECK_THAT(r.out, Catch::StartsWith("b1: own=one other=hidden pid=2\n" +
                                      (landlock.empty() ? "" : "b1" + landlock) +
                                      "b1: cgroup not applied\n"));
  CHECK_THAT(r.out, Catch::Contains("b2: own=two other=hidden pid=2\n" +
                                    (landlock.empty() ? "" : "b2" + landlock) +
                                    "b2: cgroup not applied\n"));
  CHECK_THAT(r.out, !Catch::Contains("status") && !Catch::Contains("prepare"));
}

TEST_CASE("sandbox: a view that would show a hidden path or the whole filesystem is refused") {
  TempDir tmp;
  WriteFile(tmp / "root/audit.jsonl", "");
  Spec spec = FullSpec();
  spec.exec_paths.push_back(tmp.path());
  spec.hidden_paths = {tmp / "root"};
  std::string error;
  CHECK_FALSE(PreparedSandbox::Prepare(spec, &error));
  CHECK_THAT(error, Catch::Contains(tmp / "root") && Catch::Contains("would show"));
  spec = FullSpec();
  spec.exec_paths = {"/"};
  CHECK_FALSE(PreparedSandbox::Prepare(spec, &error));
  CHECK_THAT(error, Catch::Contains("\"/\""));
  // A data path inside a hidden one (the bundle in work/) is what the sandbox is for.
  spec = FullSpec();
  spec.data_paths = {tmp / "root"};
  spec.hidden_paths = {tmp.path()};
  CHECK(PreparedSandbox::Prepare(spec, &error));
}

TEST_CASE("sandbox: the private tmp is size-limited and goes with the run") {
  Spec spec = FullSpec();
  std::string run_dir;
  const Run r = RunSandboxed(spec, [] {
    const std::string path = std::string(std::getenv("TMPDIR")) + "/fill";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
    static char chunk[1 << 16];
    long total = 0;
    ssize_t n;
    ::signal(SIGXFSZ, SIG_IGN);
    while ((n = ::write(fd, chunk, sizeof chunk)) > 0) total += n;
    std::printf("%ld %s\n", total >> 20, ::strerrorname_np(errno));
    return 0;
  });
  INFO(r.Explain());
  REQUIRE(r.exited(0));
  std::istringstream in(r.out);
  long mib = 0;
  std::string err;
  in >> mib >> err;
  CHECK(mib <= 8);
  CHECK((err == "ENOSPC" || err == "EFBIG"));
}

TEST_CASE("sandbox: a setsid grandchild dies with the payload, and statuses pass through") {
  if (!UserNamespacesWork() && ::geteuid() != 0) { WARN("skipped: " "no PID namespace here"); return; };
  const Run r = RunSandboxed(FullSpec(), [] {
    if (::fork() == 0) {
      ::setsid();
      if (::fork() == 0) {
        ::prctl(PR_SET_NAME, "bg-sbx-escapee");
        for (;;) ::pause();
      }
      ::_exit(0);
    }
    ::wait(nullptr);
    for (int i = 0; i < 100; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return 3;
  });
  INFO(r.Explain());
  CHECK(r.exited(3));
  REQUIRE(Applied(r, Layer::kPid));
  for (int i = 0; i < 200 && !ProcessesNamed("bg-sbx-escapee").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(ProcessesNamed("bg-sbx-escapee").empty());

  const Run crashed = RunSandboxed(FullSpec(), [] {
    ::kill(::getpid(), SIGSEGV);
    return 0;
  });
  CHECK(WIFSIGNALED(crashed.status));
  CHECK(WTERMSIG(crashed.status) == SIGSEGV);
}

TEST_CASE("sandbox: killing the first process kills the whole PID namespace") {
  if (!UserNamespacesWork() && ::geteuid() != 0) { WARN("skipped: " "no PID namespace here"); return; };
  std::vector<pid_t> seen;
  const Run r = RunSandboxed(FullSpec(), [] {
    for (int i = 0; i < 3; ++i) {
      if (::fork() == 0) {
        ::setsid();
        ::prctl(PR_SET_NAME, "bg-sbx-kid");
        for (;;) ::pause();
      }
    }
    ::prctl(PR_SET_NAME, "bg-sbx-kid");
    for (;;) ::pause();
    return 0;
  }, {}, [&seen](pid_t first) {
    for (int i = 0; i < 500 && seen.size() < 4; ++i) {
      seen = ProcessesNamed("bg-sbx-kid");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(first, SIGKILL);  // what the runner's timeout does (and the group with it)
  });
  CHECK(WIFSIGNALED(r.status));
  REQUIRE(seen.size() == 4);
  for (pid_t pid : seen) CHECK(Gone(pid));
}

TEST_CASE("sandbox: seccomp refuses the dangerous calls and allows what runtimes need") {
  const Run r = RunSandboxed(FullSpec(), [] {
    auto fails = [](long rc, int want) { return rc < 0 && errno == want ? "blocked" : "ALLOWED"; };
    std::printf("ptrace %s\n", fails(::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr), EPERM));
    std::printf("inet %s\n", fails(::socket(AF_INET, SOCK_STREAM, 0), EPERM));
    std::printf("userns %s\n", fails(::unshare(CLONE_NEWUSER), EPERM));
    std::printf("clone3 %s\n", fails(::syscall(SYS_clone3, nullptr, 0), ENOSYS));
    std::printf("bpf %s\n", fails(::syscall(SYS_bpf, 0, nullptr, 0), EPERM));
    std::printf("mount %s\n", fails(::syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, 0), EPERM));
    int sv[2];
    std::printf("unix %s\n", ::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? "ok" : "REFUSED");
    std::printf("thread-unshare %s\n", ::unshare(CLONE_FILES) == 0 ? "ok" : "REFUSED");
    std::thread t([] {});
    t.join();
    std::printf("threads ok\n");
    return 0;
  });
  INFO(r.Explain());
  REQUIRE(Applied(r, Layer::kSeccomp));
  CHECK(r.out ==
        "ptrace blocked\ninet blocked\nuserns blocked\nclone3 blocked\nbpf blocked\n"
        "mount blocked\nunix ok\nthread-unshare ok\nthreads ok\n");
}

TEST_CASE("sandbox: a required layer that cannot be had fails closed before the payload") {
  Spec spec = FullSpec();
  spec.required = LayerSet::Of({Layer::kCgroup});  // no delegated parent given: unavailable
  spec.cgroup_unavailable = "no delegated cgroup in this test";
  const Run r = RunSandboxed(spec, [] {
    std::printf("ran\n");
    return 0;
  });
  CHECK(r.exited(127));
  CHECK(r.out.empty());
  CHECK_THAT(r.fatal, Catch::Contains("required isolation layer \"cgroup\"") &&
                          Catch::Contains("no delegated cgroup in this test"));
}

TEST_CASE("sandbox: layers left out are off and reported so") {
  Spec spec = FullSpec();
  spec.layers = LayerSet::Of({Layer::kRlimit});
  const Run r = RunSandboxed(spec, [] { return 0; });
  CHECK(r.exited(0));
  CHECK(r.state(Layer::kMount) == LayerState::kOff);
  CHECK(r.state(Layer::kSeccomp) == LayerState::kOff);
  CHECK(Applied(r, Layer::kRlimit));
}

TEST_CASE("sandbox: as an unprivileged caller, through a user namespace or Landlock alone") {
  if (::geteuid() != 0) { WARN("skipped: " "needs root to become another user"); return; };
  TempDir tmp;
  WriteFile(tmp / "bundle/model.pt", "weights");
  WriteFile(tmp / "secret", "hunter2");
  ::chmod(tmp.path().c_str(), 0755);
  ::chmod((tmp / "secret").c_str(), 0644);  // readable by anyone: only the sandbox hides it
  // The caller itself drops to nobody, then prepares and runs the sandbox.
  int out[2];
  REQUIRE(::pipe(out) == 0);
  std::fflush(nullptr);  // nothing of the test's buffered output may reach the payload's pipe
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    if (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
        ::setresuid(65534, 65534, 65534) != 0) {
      _exit(90);
    }
    Spec spec = FullSpec();
    spec.uid = spec.gid = -1;
    spec.data_paths = {tmp / "bundle"};
    std::string error;
    auto sandbox = PreparedSandbox::Prepare(spec, &error);
    if (!sandbox) _exit(91);
    const pid_t child = ::fork();
    if (child == 0) {
      Report r;
      if (!sandbox->Enter(&r)) {
        std::printf("fatal: %s\n", sandbox->DescribeFatal(r).c_str());
        std::fflush(stdout);
        _exit(127);
      }
      std::printf("uid %d mount %d landlock %d pid %d user %d\n", static_cast<int>(::getuid()),
                  r.applied(Layer::kMount), r.applied(Layer::kLandlock), r.applied(Layer::kPid),
                  r.applied(Layer::kUser));
      std::printf("bundle %s\n", std::ifstream(tmp / "bundle/model.pt") ? "readable" : "HIDDEN");
      std::printf("secret %s\n", std::ifstream(tmp / "secret") ? "READABLE" : "hidden");
      std::fflush(stdout);
      _exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 99);
  }
  ::close(out[1]);
  std::string text;
  char buf[512];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  INFO(text);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK_THAT(text, Catch::StartsWith("uid 65534 "));
  CHECK_THAT(text, Catch::Contains("user 1"));
  CHECK_THAT(text, Catch::Contains("bundle readable\nsecret hidden\n"));
  // Confined by the mount view, or by Landlock alone where user namespaces are refused.
  CHECK_THAT(text, Catch::Contains("mount 1") || Catch::Contains("landlock 1"));
}

TEST_CASE("sandbox: the run's own cgroup where one is delegated, and why not where none is") {
  std::string why;
  CHECK(DelegatedCgroup("off", &why).empty());
  CHECK(why == "turned off");
  const std::string parent = DelegatedCgroup("auto", &why);
  Spec spec = FullSpec();
  spec.cgroup_parent = parent;
  spec.cgroup_unavailable = why;
  spec.memory_bytes = 256ull << 20;
  spec.processes = 64;
  const Run r = RunSandboxed(spec, [] {
    std::ifstream in("/proc/self/cgroup");
    std::string line, path;
    while (std::getline(in, line)) {
      if (line.rfind("0::", 0) == 0) path = line.substr(3);
    }
    std::printf("%s\n", path.c_str());
    return 0;
  });
  INFO(r.Explain());
  REQUIRE(r.exited(0));
  if (parent.empty()) {
    WARN("no delegated cgroup here: " << why);
    CHECK_FALSE(why.empty());
    CHECK(r.state(Layer::kCgroup) == LayerState::kNotApplied);
    for (const auto& l : r.layers) {
      if (l.layer == Layer::kCgroup) CHECK(l.why == why);
    }
    return;
  }
  CHECK(Applied(r, Layer::kCgroup));
  CHECK_THAT(r.out, Catch::Contains("bundlegate-run-" + std::to_string(::getpid()) + "-"));
  // The run's cgroup went with the sandbox.
  for (const auto& e : std::filesystem::directory_iterator(parent)) {
    CHECK(e.path().filename().string().rfind("bundlegate-run-" + std::to_string(::getpid()), 0) ==
          std::string::npos);
  }
}

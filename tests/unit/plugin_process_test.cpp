// The sandboxed child-process runner (agent/plugin/child_process.h) with real processes: pipes,
// exit statuses, signals, timeouts that kill grandchildren, output caps, the sandbox, and no
// leaked fds or zombies.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>

#include "tests/support/loopback_listener.h"
#include "agent/core/json.h"
#include "agent/plugin/child_process.h"
#include "agent/plugin/plugin_launch.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

// A ChildRun of `script`, written to an executable file under `tmp`.
ChildRun Script(const TempDir& tmp, const std::string& name, const std::string& script) {
  const std::string path = tmp / name;
  WriteFile(path, script);
  REQUIRE(::chmod(path.c_str(), 0755) == 0);
  ChildRun run;
  run.spawn.argv = {path};
  run.spawn.env = {"PATH=/usr/bin:/bin"};
  run.timeout = std::chrono::seconds(60);
  return run;
}

ChildRun Bash(const TempDir& tmp, const std::string& body) {
  return Script(tmp, "script.sh", "#!/bin/bash\n" + body + "\n");
}

ChildRun Python(const TempDir& tmp, const std::string& body) {
  return Script(tmp, "script.py", "#!/usr/bin/python3\nimport os, sys, json\n" + body + "\n");
}

int OpenFdCount() {
  int n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  REQUIRE(d != nullptr);
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return n;
}

bool NoChildrenLeft() { return ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD; }

// Dead, or a zombie waiting for init: either way no longer running. A SIGKILLed process closes
// its fds before it turns into a zombie, so give it (generous) time to finish dying.
bool IsGone(pid_t pid) {
  for (int i = 0; i < 1000; ++i) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string pid_field, comm, state;
    stat >> pid_field >> comm >> state;
    if (state == "Z" || state == "X") return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

pid_t ReadPid(const std::string& path) { return std::stoi(ReadFile(path)); }

}  // namespace

TEST_CASE("runner passes stdin and collects stdout and stderr and the exit status") {
  TempDir tmp;
  ChildRun run = Bash(tmp, "cat; echo to-stderr >&2; exit 3");
  run.stdin_data = "hello from the agent\n";
  const ChildOutcome o = RunChild(run);
  REQUIRE(o.start_error.ok());
  CHECK(o.exited);
  CHECK(o.exit_code == 3);
  CHECK(o.signal == 0);
  CHECK(o.out == "hello from the agent\n");
  CHECK(o.err_tail == "to-stderr\n");
  CHECK(o.exit_observed_by_pidfd);
  CHECK(o.wall_ms > 0);
  CHECK(NoChildrenLeft());
}

TEST_CASE("runner reports death by signal") {
  TempDir tmp;
  const ChildOutcome o = RunChild(Bash(tmp, "kill -SEGV $$"));
  REQUIRE(o.start_error.ok());
  CHECK_FALSE(o.exited);
  CHECK(o.signal == SIGSEGV);
  CHECK(SignalName(o.signal) == "SIGSEGV");
}

TEST_CASE("runner timeout kills the whole process group and grandchildren") {
  TempDir tmp;
  ChildRun run = Bash(tmp, "sleep 1000 & echo $! > " + (tmp / "grandchild") + "\necho $$ > " +
                               (tmp / "child") + "\nwait");
  run.timeout = std::chrono::seconds(1);
  const ChildOutcome o = RunChild(run);
  CHECK(o.timed_out);
  CHECK(o.signal == SIGKILL);
  CHECK(IsGone(ReadPid(tmp / "child")));
  CHECK(IsGone(ReadPid(tmp / "grandchild")));
  CHECK(NoChildrenLeft());
}

TEST_CASE("runner kills what a child leaves in its group when it exits") {
  TempDir tmp;
  // The background sleep keeps stdout open: without the group kill the run would hang.
  ChildRun run = Bash(tmp, "sleep 1000 & echo $! > " + (tmp / "grandchild") + "\necho done");
  const ChildOutcome o = RunChild(run);
  CHECK(o.exited);
  CHECK(o.exit_code == 0);
  CHECK_FALSE(o.timed_out);
  CHECK(o.out == "done\n");
  CHECK(IsGone(ReadPid(tmp / "grandchild")));
}

TEST_CASE("runner ends the run when an escaped process holds the pipes past the timeout") {
  TempDir tmp;
  // It writes its pid only once it has left the group; the child waits for that.
  const std::string pid_file = tmp / "escaped";
  ChildRun run = Bash(tmp, "setsid bash -c 'echo $$ > " + pid_file + "; exec sleep 1000' &\n" +
                               "while [ ! -s " + pid_file + " ]; do sleep 0.01; done\necho done");
  run.timeout = std::chrono::seconds(1);
  const ChildOutcome o = RunChild(run);
  CHECK(o.exited);
  CHECK(o.timed_out);
  CHECK(o.out == "done\n");
  ::kill(ReadPid(tmp / "escaped"), SIGKILL);  // ours to clean up: it left the group on purpose
}

TEST_CASE("the child leads its own session and cannot join the agent's process group") {
  TempDir tmp;
  const ChildOutcome o = RunChild(Python(tmp, R"(
print(os.getsid(0) == os.getpid(), os.getpgid(0) == os.getpid())
try:
    os.setpgid(0, os.getpgid(os.getppid()))
    print('joined')
except PermissionError:
    print('refused')
)"));
  CHECK(o.out == "True True\nrefused\n");
}

TEST_CASE("runner kills a child that floods stdout beyond the cap") {
  TempDir tmp;
  ChildRun run = Bash(tmp, "yes flood");
  run.max_stdout_bytes = 64 * 1024;
  const ChildOutcome o = RunChild(run);
  CHECK(o.stdout_overflow);
  CHECK(o.signal != 0);
  CHECK(o.out.size() <= run.max_stdout_bytes);
  CHECK_FALSE(o.timed_out);
}

TEST_CASE("runner keeps only the tail of stderr but counts all of it") {
  TempDir tmp;
  ChildRun run = Python(tmp, "sys.stderr.write('x' * 200000 + '\\nthe last line\\n')");
  run.stderr_tail_bytes = 4096;
  const ChildOutcome o = RunChild(run);
  CHECK(o.exit_code == 0);
  CHECK(o.err_bytes == 200000 + 15);
  CHECK(o.err_tail.size() == 4096);
  CHECK_THAT(o.err_tail, Catch::EndsWith("\nthe last line\n"));
}

TEST_CASE("runner copes with a child that never reads a large stdin") {
  TempDir tmp;
  ChildRun run = Bash(tmp, "exec 0<&-; echo ok");
  run.stdin_data = std::string(4 << 20, 'r');
  const ChildOutcome o = RunChild(run);
  CHECK(o.exit_code == 0);
  CHECK(o.out == "ok\n");
  CHECK(o.stdin_incomplete);
}

TEST_CASE("runner reports a program that cannot be executed") {
  TempDir tmp;
  ChildRun run;
  run.spawn.argv = {tmp / "does-not-exist"};
  const ChildOutcome o = RunChild(run);
  REQUIRE_FALSE(o.start_error.ok());
  CHECK_THAT(o.start_error.message(), Catch::Contains("exec"));
  CHECK_THAT(o.start_error.message(), Catch::Contains("No such file"));
  CHECK(NoChildrenLeft());
}

TEST_CASE("runner falls back to polling for the exit without pidfd") {
  TempDir tmp;
  ChildRun run = Bash(tmp, "echo polled; exit 7");
  run.poll_for_exit = true;
  const ChildOutcome o = RunChild(run);
  CHECK_FALSE(o.exit_observed_by_pidfd);
  CHECK(o.exit_code == 7);
  CHECK(o.out == "polled\n");
  run = Bash(tmp, "sleep 1000");
  run.poll_for_exit = true;
  run.timeout = std::chrono::seconds(1);
  const ChildOutcome hung = RunChild(run);
  CHECK(hung.timed_out);
  CHECK(NoChildrenLeft());
}

TEST_CASE("runner stops a child when the run is cancelled") {
  TempDir tmp;
  std::atomic<bool> cancelled{true};
  ChildRun run = Bash(tmp, "sleep 1000");
  run.cancelled = &cancelled;
  const ChildOutcome o = RunChild(run);
  CHECK(o.cancelled);
  CHECK(o.signal == SIGKILL);
}

TEST_CASE("the child gets a clean environment only fds 0 to 2 and its limits") {
  TempDir tmp;
  ::setenv("BG_TEST_SECRET", "hunter2", 1);
  const int stray = ::open("/dev/null", O_RDONLY);  // not close-on-exec: must not leak anyway
  ChildRun run = Python(tmp, R"(
import resource
fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))
status = open('/proc/self/status').read()
print(json.dumps({
  'env': dict(os.environ), 'fds': fds,
  'pgid_is_pid': os.getpgid(0) == os.getpid(),
  'as': resource.getrlimit(resource.RLIMIT_AS)[0],
  'cpu': resource.getrlimit(resource.RLIMIT_CPU)[0],
  'core': resource.getrlimit(resource.RLIMIT_CORE)[1],
  'nofile': resource.getrlimit(resource.RLIMIT_NOFILE)[0],
  'no_new_privs': 'NoNewPrivs:\t1' in status,
  'cwd': os.getcwd()}))
)");
  run.spawn.sandbox.address_space_bytes = 512ull << 20;
  run.spawn.sandbox.cpu_seconds = 30;
  run.spawn.sandbox.open_files = 64;
  const ChildOutcome o = RunChild(run);
  ::close(stray);
  ::unsetenv("BG_TEST_SECRET");
  INFO(o.out << o.err_tail);
  REQUIRE(o.exit_code == 0);
  const auto j = Json::parse(o.out);
  CHECK(j["env"]["PATH"] == "/usr/bin:/bin");
  CHECK_FALSE(j["env"].contains("BG_TEST_SECRET"));
  CHECK(j["fds"] == Json::array({0, 1, 2, 3}));  // 3: the listing's own
  CHECK(j["pgid_is_pid"] == true);
  CHECK(j["as"] == 512ll << 20);
  CHECK(j["cpu"] == 30);
  CHECK(j["core"] == 0);
  CHECK(j["nofile"] == 64);
  CHECK(j["no_new_privs"] == true);
  CHECK(j["cwd"] == "/");
}

TEST_CASE("the child has no network where a network namespace is permitted") {
  TempDir tmp;
  // A listener of ours on loopback: reachable from here, not from the child's namespace.
  const LoopbackListener listener;
  const int port = listener.port();
  ChildRun run = Python(tmp, R"(
import socket
s = socket.socket(); s.settimeout(5)
try:
    s.connect(('127.0.0.1', )" + std::to_string(port) + R"()); print('connected')
except OSError as e:
    print('refused', e)
)");
  const ChildOutcome o = RunChild(run);
  INFO(o.out << o.err_tail);
  if (o.isolation.applied(sandbox::Layer::kNetwork)) {
    CHECK_THAT(o.out, Catch::StartsWith("refused"));
  } else {
    WARN("no network namespace here: " << o.isolation.notes.front());
    CHECK_THAT(o.out, Catch::StartsWith("connected"));
  }
}

TEST_CASE("the whole sandbox: the bundle read-only at its path, its own tmp, the rest hidden") {
  TempDir tmp;
  WriteFile(tmp / "ro/data.txt", "original");
  WriteFile(tmp / "elsewhere.txt", "not for plugins");
  ::chmod(tmp.path().c_str(), 0755);
  ChildRun run = Bash(tmp, "echo changed > " + (tmp / "ro/data.txt") + " && echo wrote-file\n" +
                               "touch new.txt && echo created-file\npwd\ncat data.txt; echo\n" +
                               "cat " + (tmp / "elsewhere.txt") + " || echo hidden\n" +
                               "echo scratch > $TMPDIR/s && cat $TMPDIR/s");
  sandbox::Spec& s = run.spawn.sandbox;
  s = sandbox::Spec();
  s.exec_paths = {"/usr", "/bin", "/lib", "/lib64", "/etc", tmp.path() + "/script-dir"};
  s.data_paths = {tmp / "ro"};
  s.uid = s.gid = 65534;
  run.spawn.cwd = tmp / "ro";
  // The script must be visible: move it into a directory of its own.
  WriteFile(tmp / "script-dir/script.sh", ReadFile(run.spawn.argv[0]));
  REQUIRE(::chmod((tmp / "script-dir/script.sh").c_str(), 0755) == 0);
  run.spawn.argv = {tmp / "script-dir/script.sh"};
  const ChildOutcome o = RunChild(run);
  INFO(o.out << o.err_tail << DumpJson(o.isolation.ToJson()));
  REQUIRE(o.start_error.ok());
  CHECK(o.exit_code == 0);
  CHECK(o.out == tmp / "ro" + "\noriginal\nhidden\nscratch\n");
  CHECK(ReadFile(tmp / "ro/data.txt") == "original");
  CHECK(o.isolation.applied(sandbox::Layer::kMount));
  const Json j = o.isolation.ToJson();
  for (const char* layer : {"mount", "landlock", "pid", "seccomp", "user", "cgroup", "network",
                            "rlimit"}) {
    CHECK(j.contains(layer));
  }
  // The mount lived in the child's namespace only: here the directory is still writable.
  WriteFile(tmp / "ro/after.txt", "still writable");
}

TEST_CASE("many concurrent runs leave no zombies and no leaked fds") {
  TempDir tmp;
  const ChildRun ok = Bash(tmp, "cat >/dev/null; echo ok");
  const ChildRun hang = Script(tmp, "hang.sh", "#!/bin/bash\nsleep 1000 & sleep 1000\n");
  const ChildRun crash = Script(tmp, "crash.sh", "#!/bin/bash\nkill -ABRT $$\n");
  const int fds_before = OpenFdCount();
  std::vector<ChildOutcome> outcomes;
  auto loop = std::make_unique<boost::asio::io_context>();
  for (int i = 0; i < 24; ++i) {
    ChildRun run = i % 3 == 0 ? ok : i % 3 == 1 ? hang : crash;
    run.stdin_data = std::string(100000, 'i');
    if (i % 3 == 1) run.timeout = std::chrono::seconds(2);
    run.poll_for_exit = i % 4 == 0;
    RunChildAsync(*loop, run, [&outcomes](ChildOutcome o) { outcomes.push_back(std::move(o)); });
  }
  loop->run();
  loop.reset();  // the loop's own fds (epoll, eventfd, timerfd) go with it
  REQUIRE(outcomes.size() == 24);
  int timed_out = 0, crashed = 0, passed = 0;
  for (const auto& o : outcomes) {
    timed_out += o.timed_out;
    crashed += o.signal == SIGABRT;
    passed += o.exit_code == 0 && o.out == "ok\n";
  }
  CHECK(timed_out == 8);
  CHECK(crashed == 8);
  CHECK(passed == 8);
  CHECK(OpenFdCount() == fds_before);
  CHECK(NoChildrenLeft());
}

TEST_CASE("destroying the loop mid-run kills and reaps the child") {
  TempDir tmp;
  const int fds_before = OpenFdCount();
  {
    auto loop = std::make_unique<boost::asio::io_context>();
    ChildRun run = Bash(tmp, "echo $$ > " + (tmp / "pid.tmp") + " && mv " + (tmp / "pid.tmp") +
                                 " " + (tmp / "pid") + "\nsleep 1000");
    bool called = false;
    RunChildAsync(*loop, run, [&called](ChildOutcome) { called = true; });
    struct stat st {};
    while (::stat((tmp / "pid").c_str(), &st) != 0) {
      loop->poll();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    loop.reset();
    CHECK_FALSE(called);
  }
  CHECK(IsGone(ReadPid(tmp / "pid")));
  CHECK(NoChildrenLeft());
  CHECK(OpenFdCount() == fds_before);
}

// The agent's config (and the keys beside it) never shows in a plugin's view: its directory is
// masked inside the read paths, or the file alone where the directory holds what plugins need.
TEST_CASE("a plugin's sandbox masks the agent's config directory, or the file alone") {
  TempDir tmp;
  WriteFile(tmp / "etc/bundlegate/bundlegate.toml", "workers = 2\n");
  WriteFile(tmp / "etc/bundlegate/plugins/bundlegate-check-x", "#!/bin/sh\n");
  Config config = DefaultConfig(tmp / "root");
  config.source = tmp / "etc/bundlegate/bundlegate.toml";
  const PluginSandbox sandbox = PluginSandboxFor(config);
  CHECK(sandbox.config_file == config.source);
  const ChildRun run = PluginChildRun("/usr/bin/true", {}, PluginLimits{}, "", sandbox);
  CHECK(run.spawn.sandbox.masked_paths == std::vector<std::string>{tmp / "etc/bundlegate"});
  // A plugin inside the config's directory: only the file is masked.
  const ChildRun inside = PluginChildRun(tmp / "etc/bundlegate/plugins/bundlegate-check-x", {},
                                         PluginLimits{}, "", sandbox);
  CHECK(inside.spawn.sandbox.masked_paths == std::vector<std::string>{config.source});
  // A bundle below the config's directory (the agent's root beside its config): the file alone.
  const ChildRun bundle = PluginChildRun("/usr/bin/true", {}, PluginLimits{},
                                         tmp / "etc/bundlegate/root/work/b/bundle", sandbox);
  CHECK(bundle.spawn.sandbox.masked_paths == std::vector<std::string>{config.source});
  // A config directly in a read path (/etc/bundlegate.toml): the file alone.
  config.source = tmp / "etc/bundlegate.toml";
  WriteFile(config.source, "");
  config.sandbox.read_paths.push_back(tmp / "etc");
  const ChildRun flat = PluginChildRun("/usr/bin/true", {}, PluginLimits{}, "", PluginSandboxFor(config));
  CHECK(flat.spawn.sandbox.masked_paths == std::vector<std::string>{config.source});
}

// bundlegate-check-hostile: a plugin that attacks from inside the sandbox, for the hostile-plugin
// tests (hostile_plugin_test.cpp). What it does depends on the bundle's manifest name (and, for
// the escaper, on being installed as kind "escape"):
//   good      passes at once
//   victim    names itself "bg-victim" and waits forever (a bundle held in work/ for the attacker)
//   escaper   starts a setsid grandchild ("bg-escapee") that would outlive it, then hangs past
//             the timeout
//   attacker  tries every attack below, each recorded in details.attempts.<name> as
//             {"blocked": true|false, "detail": "..."}, and fails with reason unsafe-model
// It serves too (--serve, through the plugin SDK), so that the same attacks run in a warm
// worker's request child (plugins/sdk/serve.h); there the attacker also goes for its parent (the
// worker, or the sandbox's supervisor): ptrace and its memory.
// The attacker's targets (the agent's pid and paths, its config and a private key beside it, the
// test's TCP port, the victim's work snapshot) are in targets.json inside its own bundle, written there by the test; config key
// "skip" lists attacks to leave out.
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plugins/sdk/plugin_main.h"

using Json = nlohmann::json;

namespace {

// Config key "tag" (set per test mode) suffixes the names of the processes the tests look for
// from outside, so that tests running at once do not see each other's victims.
std::string g_tag;
std::string Named(const std::string& base) {
  return (g_tag.empty() ? base : base + "-" + g_tag).substr(0, 15);
}

struct Outcome {
  bool blocked;
  std::string detail;
};

std::string Err(int err) {
  const char* name = ::strerrorname_np(err);
  return name ? name : "errno " + std::to_string(err);
}

Outcome Blocked(int err) { return {true, Err(err)}; }
Outcome Succeeded(const std::string& what) { return {false, what}; }

// open() as the attack: blocked when it fails; a success is closed after `then` ran.
Outcome TryOpen(const std::string& path, int flags, const char* then_write = nullptr) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return Blocked(errno);
  std::string what = "opened " + path;
  if (then_write != nullptr) {
    const ssize_t n = ::pwrite(fd, then_write, std::strlen(then_write), 0);
    what += n > 0 ? " and wrote it" : " but the write failed: " + Err(errno);
  }
  ::close(fd);
  return Succeeded(what);
}

Outcome TryRead(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Blocked(errno);
  char c;
  const ssize_t n = ::read(fd, &c, 1);
  ::close(fd);
  if (n < 0) return Blocked(errno);
  return Succeeded("read " + path);
}

Outcome TryList(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Blocked(errno);
  int n = 0;
  while (::readdir(d) != nullptr) ++n;
  ::closedir(d);
  return Succeeded("listed " + std::to_string(n) + " entries of " + dir);
}

Outcome TryConnect(int port) {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Blocked(errno);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int r = ::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(s);
  if (r != 0) return {true, "socket made, connect: " + Err(err)};
  return Succeeded("connected to 127.0.0.1:" + std::to_string(port));
}

Outcome TrySocket(int family, int type) {
  const int s = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (s < 0) return Blocked(errno);
  ::close(s);
  return Succeeded("made a socket of family " + std::to_string(family));
}

Outcome TryCall(long r, const std::string& what) {
  if (r < 0) return Blocked(errno);
  return Succeeded(what);
}

Outcome TryProcessVmRead(pid_t pid) {
  char buf[8];
  iovec local{buf, sizeof buf};
  iovec remote{reinterpret_cast<void*>(0x400000), sizeof buf};
  return TryCall(::process_vm_readv(pid, &local, 1, &remote, 1, 0), "read the agent's memory");
}

// Writes into the directories that must not be writable; blocked when none took a file.
Outcome TryWriteOutside(const std::string& bundle_dir, const std::string& plugin_dir) {
  std::string wrote;
  for (const std::string& dir :
       {std::string("/"), std::string("/etc"), std::string("/usr"), std::string("/var/tmp"),
        std::string("/root"), std::string("/home"), std::string("/run"), plugin_dir, bundle_dir}) {
    const std::string path = dir + "/bg-hostile-was-here";
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      ::unlink(path.c_str());
      wrote += (wrote.empty() ? "" : ", ") + dir;
    }
  }
  if (wrote.empty()) return {true, "no file could be made outside the private tmp"};
  return Succeeded("made files in " + wrote);
}

// Fills TMPDIR; contained when a write fails at about the size the runner gives it.
Outcome TryFillTmp(std::uint64_t limit_mb) {
  const char* tmp = std::getenv("TMPDIR");
  if (tmp == nullptr) return {false, "no TMPDIR"};
  const std::string path = std::string(tmp) + "/fill";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {false, "cannot write in TMPDIR " + std::string(tmp) + ": " + Err(errno)};
  ::signal(SIGXFSZ, SIG_IGN);  // a file size limit shows as EFBIG then
  static char chunk[1 << 20];
  std::memset(chunk, 'x', sizeof chunk);
  std::uint64_t written = 0;
  int err = 0;
  const std::uint64_t cap = (limit_mb + 512) << 20;  // stop long before a host disk fills
  while (written < cap) {
    const ssize_t n = ::write(fd, chunk, sizeof chunk);
    if (n <= 0) {
      err = n < 0 ? errno : ENOSPC;
      break;
    }
    written += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  ::unlink(path.c_str());
  const std::string detail = "wrote " + std::to_string(written >> 20) + " MiB to " + tmp +
                             ", then " + (err ? Err(err) : "stopped");
  return {err != 0 && written <= ((limit_mb + 1) << 20), detail};
}

Outcome TryMap64G() {
  void* p = ::mmap(nullptr, 64ull << 30, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return Blocked(errno);
  ::munmap(p, 64ull << 30);
  return Succeeded("mapped 64 GiB");
}

// A setsid grandchild that would live forever: the test checks from outside that it is gone.
void StartEscapee() {
  const pid_t child = ::fork();
  if (child == 0) {
    ::setsid();
    if (::fork() == 0) {
      ::prctl(PR_SET_NAME, Named("bg-escapee").c_str());
      ::signal(SIGHUP, SIG_IGN);
      ::signal(SIGTERM, SIG_IGN);
      for (;;) ::pause();
    }
    ::_exit(0);
  }
  if (child > 0) ::waitpid(child, nullptr, 0);
}

// Opens /dev/null until refused; contained when refused at about the runner's open-files limit.
Outcome TryExhaustFds(std::uint64_t limit) {
  std::vector<int> fds;
  int err = 0;
  while (fds.size() < 100000) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = errno;
      break;
    }
    fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  const std::string detail = "opened " + std::to_string(fds.size()) + " files" +
                             (err ? ", then " + Err(err) : "");
  return {err == EMFILE && fds.size() <= limit, detail};
}

// Forks up to 10,000 children that wait forever; contained when the forks stop well before.
Outcome TryForkBomb() {
  int forked = 0, err = 0;
  for (; forked < 10000; ++forked) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      ::prctl(PR_SET_NAME, Named("bg-bomb").c_str());
      for (;;) ::pause();
    }
  }
  const std::string detail = "forked " + std::to_string(forked) + (err ? ", then " + Err(err) : "");
  return {forked < 10000, detail};
}

Json Attack(const Json& request) {
  const std::string bundle = request["bundle_dir"];
  std::ifstream in(bundle + "/targets.json");
  const Json t = Json::parse(in);
  std::set<std::string> skip;
  if (request["config"].contains("skip")) {
    for (const auto& s : request["config"]["skip"]) skip.insert(s.get<std::string>());
  }
  const pid_t agent = t["agent_pid"].get<int>();
  const std::string audit = t["audit_log"], root = t["root"], serving = t["serving_model"];
  const std::string victim = t["victim_dir"], plugin_dir = t["plugin_dir"];
  Json attempts = Json::object();
  auto record = [&](const std::string& name, auto&& attempt) {
    if (skip.count(name)) return;
    const Outcome o = attempt();
    attempts[name] = {{"blocked", o.blocked}, {"detail", o.detail}};
  };
  record("audit_read", [&] { return TryRead(audit); });
  record("audit_append", [&] { return TryOpen(audit, O_WRONLY | O_APPEND, "{\"forged\":1}\n"); });
  record("audit_rewrite", [&] { return TryOpen(audit, O_RDWR, "{\"seq\":1}"); });
  record("audit_truncate", [&] { return TryCall(::truncate(audit.c_str(), 0), "truncated it"); });
  record("audit_replace", [&] {
    return TryOpen(root + "/audit.jsonl.evil", O_WRONLY | O_CREAT);
  });
  record("serving_read", [&] { return TryRead(serving); });
  record("serving_overwrite", [&] { return TryOpen(serving, O_WRONLY, "EVIL"); });
  record("serving_create", [&] {
    return TryOpen(serving.substr(0, serving.rfind('/')) + "/evil.pt", O_WRONLY | O_CREAT);
  });
  record("victim_read", [&] { return TryRead(victim + "/model.pt"); });
  record("victim_write", [&] { return TryOpen(victim + "/model.pt", O_WRONLY, "EVIL"); });
  record("work_list", [&] { return TryList(root + "/work"); });
  record("root_list", [&] { return TryList(root); });
  record("own_bundle_write", [&] { return TryOpen(bundle + "/model.pt", O_WRONLY, "EVIL"); });
  record("own_bundle_create", [&] { return TryOpen(bundle + "/evil", O_WRONLY | O_CREAT); });
  record("own_bundle_chmod", [&] {
    return TryCall(::chmod((bundle + "/model.pt").c_str(), 0666), "made it writable");
  });
  record("shadow_read", [&] { return TryRead("/etc/shadow"); });
  record("config_read", [&] { return TryRead(t["config"].get<std::string>()); });
  record("key_read", [&] { return TryRead(t["key"].get<std::string>()); });
  record("write_outside_tmp", [&] { return TryWriteOutside(bundle, plugin_dir); });
  record("tcp_connect", [&] { return TryConnect(t["port"].get<int>()); });
  record("udp_socket", [&] { return TrySocket(AF_INET, SOCK_DGRAM); });
  record("ipv6_socket", [&] { return TrySocket(AF_INET6, SOCK_STREAM); });
  record("netlink_socket", [&] { return TrySocket(AF_NETLINK, SOCK_RAW); });
  record("signal_agent", [&] { return TryCall(::kill(agent, SIGTERM), "signalled the agent"); });
  // kill(-1) succeeds even when every target refused (EPERM is not reported): what counts is
  // whether the test's canary, a process of the plugin's uid outside the sandbox, got it.
  record("signal_everyone", [&] {
    ::kill(-1, SIGCONT);
    return Outcome{true, "sent SIGCONT to everyone it could reach: the canary must not get it"};
  });
  record("ptrace_agent", [&] {
    return TryCall(::ptrace(PTRACE_ATTACH, agent, nullptr, nullptr), "attached to the agent");
  });
  record("agent_memory", [&] { return TryProcessVmRead(agent); });
  const pid_t parent = ::getppid();
  record("parent_ptrace", [&] {
    return TryCall(::ptrace(PTRACE_ATTACH, parent, nullptr, nullptr), "attached to its parent");
  });
  record("parent_memory", [&] { return TryRead("/proc/" + std::to_string(parent) + "/mem"); });
  record("agent_proc_mem", [&] { return TryRead("/proc/" + std::to_string(agent) + "/mem"); });
  record("agent_proc_cmdline", [&] {
    return TryRead("/proc/" + std::to_string(agent) + "/cmdline");
  });
  record("new_user_namespace", [&] { return TryCall(::unshare(CLONE_NEWUSER), "made one"); });
  record("mount_tmpfs", [&] {
    return TryCall(::mount("tmpfs", "/tmp", "tmpfs", 0, nullptr), "mounted a tmpfs");
  });
  record("bpf", [&] { return TryCall(::syscall(SYS_bpf, 0, nullptr, 0), "called bpf"); });
  record("io_uring", [&] {
    char params[120] = {};
    const long fd = ::syscall(SYS_io_uring_setup, 1, params);
    if (fd >= 0) ::close(static_cast<int>(fd));
    return TryCall(fd, "made an io_uring");
  });
  record("keyctl", [&] {
    return TryCall(::syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0), "used keyctl");
  });
  record("setuid_root", [&] { return TryCall(::setuid(0), "became root"); });
  record("fill_tmp", [&] {
    return TryFillTmp(request["config"].value("expect_tmpfs_mb", 64));
  });
  record("map_64g", [&] { return TryMap64G(); });
  record("fd_exhaust", [&] { return TryExhaustFds(1024); });
  if (!skip.count("setsid_grandchild")) {
    StartEscapee();
    attempts["setsid_grandchild"] = {{"blocked", true},
                                     {"detail", "started bg-escapee: it must die with the run"}};
  }
  record("fork_bomb", [&] { return TryForkBomb(); });
  return attempts;
}

void Print(const Json& result) { std::cout << result.dump() << std::endl; }

// What the plugin answers to `request` (never returns for the victim and the escaper).
Json Handle(const Json& request, const std::string& kind) {
  const std::string name = request["manifest"]["name"];
  if (request["config"].contains("tag")) g_tag = request["config"]["tag"].get<std::string>();
  if (name == "victim") {
    ::prctl(PR_SET_NAME, Named("bg-victim").c_str());
    for (;;) ::pause();
  }
  if (name == "escaper" && kind == "escape") {
    StartEscapee();
    for (;;) ::pause();
  }
  if (name != "attacker" || kind != "hostile") {
    return {{"protocol", 1}, {"status", "pass"}, {"summary", "harmless"}};
  }
  Json attempts = Attack(request);
  int escaped = 0;
  for (const auto& [key, value] : attempts.items()) escaped += !value["blocked"].get<bool>();
  return {{"protocol", 1},
          {"status", "fail"},
          {"reason", "unsafe-model"},
          {"summary", std::to_string(escaped) + " of " + std::to_string(attempts.size()) +
                          " attacks got through"},
          {"details", {{"attempts", attempts}}}};
}

// --serve: the SDK's warm worker, each request handled as above in a sandboxed child.
int Serve(int argc, char** argv, const std::string& kind) {
  bg::sdk::PluginSpec spec;
  spec.kind = kind;
  spec.version = "1.0";
  spec.check = [kind](const bg::sdk::Request& r) {
    const Json request = {{"bundle_dir", r.bundle_dir},
                          {"manifest", Json::parse(r.manifest.dump())},
                          {"config", Json::parse(r.config.dump())}};
    const Json answer = Handle(request, kind);
    bg::sdk::PluginResult result;
    const std::string status = answer["status"];
    result.status = status == "pass"   ? bg::sdk::Outcome::kPass
                    : status == "fail" ? bg::sdk::Outcome::kFail
                                       : bg::sdk::Outcome::kError;
    result.reason = answer.value("reason", "");
    result.summary = answer.value("summary", "");
    if (answer.contains("details")) result.details = bg::sdk::Json::parse(answer["details"].dump());
    return result;
  };
  return bg::sdk::RunPlugin(argc, argv, spec);
}

}  // namespace

int main(int argc, char** argv) {
  // Installed twice: as bundlegate-check-hostile, and as bundlegate-check-escape (a symlink,
  // with a short timeout of its own) which does the escaper only.
  std::string kind = argv[0];
  kind = kind.substr(kind.rfind('/') + 1);
  kind = kind.substr(kind.find("check-") == std::string::npos ? 0 : kind.find("check-") + 6);
  if (argc > 1 && std::string(argv[1]) == "--describe") {
    Print({{"protocol", 1}, {"kind", kind}, {"version", "1.0"}, {"runtime", Json::object()},
           {"serve", true}});
    return 0;
  }
  if (argc > 1 && std::string(argv[1]) == "--serve") return Serve(argc, argv, kind);
  const std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  Print(Handle(Json::parse(text), kind));
  return 0;
}

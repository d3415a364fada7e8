// bg_without_userns UID GID PROGRAM [ARGS...]: runs PROGRAM as UID/GID on a "kernel" that
// refuses unprivileged user namespaces, for the tests of the sandbox's fallbacks. Run as root.
//
// It enters a user namespace of its own that maps uids and gids 0..65535 to themselves (a
// forked helper, still outside, writes the maps), sets user.max_user_namespaces to 0 there (a
// per-namespace limit: it binds this namespace and its descendants only, not the host), drops
// to UID/GID without capabilities, and execs PROGRAM in the same process, so that its pid is
// the one the caller forked. PROGRAM then cannot make user namespaces (ENOSPC), nor, without
// CAP_SYS_ADMIN, mount, PID or network namespaces: what an unprivileged service sees on a
// kernel with user namespaces disabled. Landlock and seccomp still work.
#include <grp.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "bg_without_userns: %s: %s\n", what, std::strerror(errno));
  std::exit(126);
}

void WriteFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    Die(path.c_str());
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: bg_without_userns UID GID PROGRAM [ARGS...]\n");
    return 2;
  }
  const uid_t uid = static_cast<uid_t>(std::atol(argv[1]));
  const gid_t gid = static_cast<gid_t>(std::atol(argv[2]));
  int go[2], done[2];
  if (::pipe(go) != 0 || ::pipe(done) != 0) Die("pipe");
  const pid_t self = ::getpid();
  const pid_t mapper = ::fork();
  if (mapper < 0) Die("fork");
  if (mapper == 0) {
    char c;
    if (::read(go[0], &c, 1) != 1) ::_exit(1);
    const std::string proc = "/proc/" + std::to_string(self);
    WriteFile(proc + "/uid_map", "0 0 65536\n");
    WriteFile(proc + "/gid_map", "0 0 65536\n");
    ::write(done[1], "x", 1);
    ::_exit(0);
  }
  if (::unshare(CLONE_NEWUSER) != 0) Die("unshare(CLONE_NEWUSER)");
  ::write(go[1], "x", 1);
  char c;
  if (::read(done[0], &c, 1) != 1) Die("the mapper failed");
  ::waitpid(mapper, nullptr, 0);
  WriteFile("/proc/sys/user/max_user_namespaces", "0");
  if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
      ::setresuid(uid, uid, uid) != 0) {
    Die("dropping to the user");
  }
  for (int fd : {go[0], go[1], done[0], done[1]}) ::close(fd);
  ::execv(argv[3], argv + 3);
  Die(argv[3]);
}

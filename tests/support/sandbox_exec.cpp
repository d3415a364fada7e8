// bg_sandbox_exec PROGRAM [ARGS...]: runs a plugin under the agent's whole sandbox
// (agent/sandbox/sandbox.h), for the plugin tests that run a plugin directly rather than
// through the agent (integration_torchscript): they then check it under the same confinement
// as production.
//
// It reads the plugin's request from stdin, shows the request's bundle_dir read-only (the data
// path), the default read paths of SandboxConfig and the directories of every absolute path
// among its arguments, and passes the request on. stdout and stderr are the plugin's. Run as
// root (the plugin then runs as nobody), it insists on every layer but cgroup: exit status 125
// and the layer's reason on stderr when one is missing. Otherwise it exits as the plugin did.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/sandbox/sandbox.h"

namespace sb = bg::sandbox;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] != '/') {
    std::fprintf(stderr, "usage: bg_sandbox_exec /ABSOLUTE/PROGRAM [ARGS...] < request\n");
    return 2;
  }
  const std::string request((std::istreambuf_iterator<char>(std::cin)),
                            std::istreambuf_iterator<char>());
  sb::Spec spec;
  spec.exec_paths = {"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc",
                     "/opt", "/sys"};
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    if (argv[i][0] == '/' && fs::is_regular_file(argv[i], ec)) {
      spec.exec_paths.push_back(fs::path(argv[i]).parent_path().string());
      spec.exec_paths.push_back(fs::canonical(argv[i], ec).parent_path().string());
    }
  }
  const auto j = nlohmann::json::parse(request, nullptr, false);
  std::string bundle;
  if (j.is_object() && j.contains("bundle_dir") && j["bundle_dir"].is_string()) {
    bundle = j["bundle_dir"].get<std::string>();
    spec.data_paths = {bundle};
  }
  const bool root = ::geteuid() == 0;
  if (root) {
    spec.uid = spec.gid = 65534;
    spec.required = sb::LayerSet::All();
    spec.required.Remove(sb::Layer::kCgroup);
    if (sb::LandlockAbi() <= 0) spec.required.Remove(sb::Layer::kLandlock);
  }
  std::string error;
  auto sandbox = sb::PreparedSandbox::Prepare(spec, &error);
  if (!sandbox) {
    std::fprintf(stderr, "bg_sandbox_exec: %s\n", error.c_str());
    return 125;
  }
  int in[2], rep[2];
  if (::pipe(in) != 0 || ::pipe2(rep, O_CLOEXEC) != 0) return 125;
  const pid_t pid = ::fork();
  if (pid < 0) return 125;
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::close(in[0]);
    ::close(in[1]);
    ::close(rep[0]);
    sb::Report r;
    const bool ok = sandbox->Enter(&r);
    (void)!::write(rep[1], &r, sizeof r);
    if (!ok) ::_exit(125);
    if (bundle.empty() || ::chdir(bundle.c_str()) != 0) ::chdir("/");  // a test's bad bundle_dir
    static char tmpdir[4200];
    std::snprintf(tmpdir, sizeof tmpdir, "TMPDIR=%s", sandbox->TmpDir(r));
    char* envp[] = {const_cast<char*>("PATH=/usr/local/bin:/usr/bin:/bin"), tmpdir, nullptr};
    ::execve(argv[1], argv + 1, envp);
    ::_exit(126);
  }
  ::close(in[0]);
  ::close(rep[1]);
  ::signal(SIGPIPE, SIG_IGN);
  (void)!::write(in[1], request.data(), request.size());
  ::close(in[1]);
  sb::Report report{};
  const bool got = ::read(rep[0], &report, sizeof report) == static_cast<ssize_t>(sizeof report);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  if (got && report.fatal_step != 0) {
    std::fprintf(stderr, "bg_sandbox_exec: %s\n", sandbox->DescribeFatal(report).c_str());
    return 125;
  }
  if (WIFSIGNALED(status)) {
    ::signal(WTERMSIG(status), SIG_DFL);
    ::kill(::getpid(), WTERMSIG(status));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

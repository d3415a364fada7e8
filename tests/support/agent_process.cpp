#include "tests/support/agent_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/core/sha256.h"
#include "tests/support/process.h"

extern char** environ;

namespace bg::test {
namespace fs = std::filesystem;

NotifySocket::NotifySocket(const std::string& path) : path_(path) {
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd_ >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  REQUIRE(path.size() < sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::chmod(path.c_str(), 0777);  // an agent started as another user (setpriv) sends here too
  timeval tv{0, 50 * 1000};  // so that the reader notices stop_
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  reader_ = std::thread([this] { ReceiveLoop(); });
}

NotifySocket::~NotifySocket() {
  stop_ = true;
  reader_.join();
  ::close(fd_);
  ::unlink(path_.c_str());
}

void NotifySocket::ReceiveLoop() {
  char buf[4096];
  while (!stop_) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    messages_.emplace_back(buf, static_cast<std::size_t>(n));
  }
}

std::vector<std::string> NotifySocket::Messages() {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

bool NotifySocket::WaitFor(const std::string& needle, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& m : Messages()) {
      if (m.find(needle) != std::string::npos) return true;
    }
    std::this_thread::sleep_for(Millis(10));
  }
  return false;
}

AgentRoot::AgentRoot(const std::string& extra_top, const std::string& extra_tables) {
  WriteConfig(extra_top, extra_tables);
}

void AgentRoot::WriteConfig(const std::string& extra_top, const std::string& extra_tables) {
  std::string text = extra_top + "\n";
  for (const char* setting : {"require_parity = false", "shutdown_timeout_s = 10"}) {
    const std::string key = std::string(setting).substr(0, std::string(setting).find(' '));
    if (extra_top.find(key) == std::string::npos) text += std::string(setting) + "\n";
  }
  // Extra [paths] keys may come first in `extra_tables`, as "[paths]\n...\n\n".
  std::string tables = extra_tables;
  std::string paths;
  if (tables.rfind("[paths]\n", 0) == 0) {
    const auto end = tables.find("\n\n");
    paths = tables.substr(8, end == std::string::npos ? std::string::npos : end - 7);
    tables = end == std::string::npos ? "" : tables.substr(end + 2);
  }
  text += "[paths]\nroot = \"root\"\n" + paths + "\n";
  // Tests pass whole [watch] tables when they need other values.
  if (tables.find("[watch]") == std::string::npos) {
    text += "[watch]\nsettle_ms = 100\nrescan_interval_s = 60\n\n";
  }
  text += tables + "\n";
  WriteFile(config(), text);
}

std::string AgentRoot::Drop(const std::string& inbox_name, const BundleSpec& spec) {
  fs::create_directories(inbox());
  const std::string staging = inbox() + "/." + inbox_name + ".tmp";
  WriteBundle(staging, spec);
  const std::string target = inbox() + "/" + inbox_name;
  REQUIRE(::rename(staging.c_str(), target.c_str()) == 0);
  return target;
}

AgentProcess::AgentProcess(const AgentRoot& root, std::map<std::string, std::string> env,
                           std::vector<std::string> wrapper) {
  static int counter = 0;
  const std::string sock = root.tmp() / ("notify-" + std::to_string(counter++) + ".sock");
  notify_ = std::make_unique<NotifySocket>(sock);
  ::chmod(sock.c_str(), 0666);  // an agent run as another user must reach it too
  log_path_ = root.tmp() / ("agent-" + std::to_string(counter) + ".log");
  env["NOTIFY_SOCKET"] = sock;
  env.erase("JOURNAL_STREAM");

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string kv(*e);
    const std::string key = kv.substr(0, kv.find('='));
    if (!env.count(key) && key != "JOURNAL_STREAM" && key.rfind("BUNDLEGATE_", 0) != 0) {
      env_strings.push_back(kv);
    }
  }
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string bin = BundlegateBinary();
  std::string config = root.config();
  std::vector<char*> argv;
  for (auto& w : wrapper) argv.push_back(w.data());
  for (char* a : {bin.data(), const_cast<char*>("run"), const_cast<char*>("--config"), config.data()}) {
    argv.push_back(a);
  }
  argv.push_back(nullptr);
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(log_fd >= 0);
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    ::dup2(log_fd, 2);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(log_fd);
}

AgentProcess::~AgentProcess() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    WaitExit(Millis(10000));
  }
}

bool AgentProcess::WaitReady(Millis timeout) {
  const bool ready = notify_->WaitFor("READY=1", timeout);
  if (!ready) WARN("agent did not become ready; its log:\n" << Log());
  return ready;
}

void AgentProcess::Signal(int signal) { ::kill(pid_, signal); }

bool AgentProcess::running() {
  if (exit_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

std::optional<int> AgentProcess::WaitExit(Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(Millis(10));
  }
  return exit_;
}

std::string AgentProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<json> ReadAudit(const std::string& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<json> WaitForAudit(const std::string& path, const std::function<bool(const json&)>& pred,
                               std::size_t count, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<json> matched;
  do {
    matched.clear();
    for (auto& r : ReadAudit(path)) {
      if (pred(r)) matched.push_back(r);
    }
    if (matched.size() >= count) return matched;
    std::this_thread::sleep_for(Millis(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return matched;
}

std::function<bool(const json&)> DecisionFor(const std::string& inbox_name) {
  return [inbox_name](const json& r) {
    const std::string event = r.value("event", "");
    return (event == "promoted" || event == "rejected") && r.value("inbox_name", "") == inbox_name;
  };
}

bool WaitUntil(const std::function<bool()>& condition, Millis timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return condition();
    std::this_thread::sleep_for(Millis(10));
  }
  return true;
}

bool WaitForIdle(const AgentRoot& root, Millis timeout) {
  return WaitUntil([&] {
    std::error_code ec;
    return fs::is_empty(root.work(), ec) || ec;
  }, timeout);
}

namespace {

std::string VersionIn(const std::string& manifest_path) {
  std::ifstream in(manifest_path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("version = \"", 0) == 0) return line.substr(11, line.size() - 12);
  }
  return "";
}

bool HoldsVersion(const fs::path& dir, const std::string& version) {
  return VersionIn((dir / "bundle.toml").string()) == version;
}

std::string JsonField(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  json j = json::parse(s.str(), nullptr, false);
  return j.is_object() ? j.value(key, "") : "";
}

}  // namespace

std::vector<std::string> Locate(const AgentRoot& root, const std::string& inbox_name,
                                const std::string& version) {
  std::vector<std::string> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root.inbox(), ec)) {
    const std::string n = e.path().filename().string();
    if (n == inbox_name || n.rfind(inbox_name + ".recovered-", 0) == 0) found.push_back("inbox");
  }
  for (const auto& e : fs::directory_iterator(root.inbox() + "/.bundlegate-claimed", ec)) {
    if (HoldsVersion(e.path(), version)) found.push_back("inbox (claimed)");
  }
  for (const auto& e : fs::directory_iterator(root.work(), ec)) {
    // work/.removing-<id>: a decided bundle's directory being removed, not a claim.
    if (e.path().filename().string()[0] == '.') continue;
    // Only the records may be left once the bundle moved on (a crash before the cleanup); the
    // agent's dot-names there are what it set aside (a snapshot whose copy is in the inbox).
    if (JsonField(e.path() / "intake.json", "inbox_name") != inbox_name) continue;
    for (const auto& held : fs::directory_iterator(e.path(), ec)) {
      const std::string n = held.path().filename().string();
      if (n != "intake.json" && n.rfind("intake.json.tmp", 0) != 0 && n != "journal.jsonl" &&
          n.rfind("journal.jsonl.tmp", 0) != 0 && n.rfind(".discard-", 0) != 0 &&
          n.rfind(".returned-", 0) != 0) {
        found.push_back("work");
        break;
      }
    }
  }
  for (const auto& model : fs::directory_iterator(root.serving(), ec)) {
    if (fs::is_directory(model.path() / version) && HoldsVersion(model.path() / version, version)) {
      found.push_back("serving");
    }
  }
  for (const auto& q : fs::directory_iterator(root.quarantine(), ec)) {
    for (const char* f : {"REJECTED.json", "REJECTED.bundlegate.json"}) {
      if (JsonField(q.path() / f, "inbox_name") == inbox_name) {
        found.push_back("quarantine");
        break;
      }
    }
  }
  return found;
}

std::vector<std::string> ServingProblems(const AgentRoot& root) {
  std::vector<std::string> problems;
  std::error_code ec;
  for (const auto& model : fs::directory_iterator(root.serving(), ec)) {
    for (const auto& v : fs::directory_iterator(model.path(), ec)) {
      const std::string name = v.path().filename().string();
      if (name[0] == '.' || name == "current" || !fs::is_directory(v.symlink_status())) continue;
      std::ifstream in(v.path() / "bundle.toml");
      std::stringstream text;
      text << in.rdbuf();
      // Each [[files]] entry: path, size, sha256, in the writer's order.
      std::istringstream lines(text.str());
      std::string line, path;
      std::uint64_t size = 0;
      int files = 0;
      while (std::getline(lines, line)) {
        if (line.rfind("path = \"", 0) == 0) path = line.substr(8, line.size() - 9);
        if (line.rfind("size = ", 0) == 0) size = std::stoull(line.substr(7));
        if (line.rfind("sha256 = \"", 0) == 0 && !path.empty()) {
          const std::string want = line.substr(10, line.size() - 11);
          const auto file = v.path() / path;
          struct stat st;
          if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            problems.push_back(file.string() + ": missing");
          } else {
            if (static_cast<std::uint64_t>(st.st_size) != size) problems.push_back(file.string() + ": size");
            if (Sha256Hex(ReadFile(file.string())) != want) problems.push_back(file.string() + ": sha256");
            if (st.st_mode & 0222) problems.push_back(file.string() + ": writable");
          }
          ++files;
          path.clear();
        }
      }
      if (files == 0) problems.push_back(v.path().string() + ": no files listed");
    }
  }
  return problems;
}

int VerifyAudit(const AgentRoot& root) {
  const auto r = RunBundlegate({"audit", "verify", "--file", root.audit_log()});
  if (r.exit_code != 0) WARN("audit verify: " << r.out << r.err);
  return r.exit_code;
}

OtherFilesystemDir::OtherFilesystemDir(const std::string& near) {
  std::string templ = "/dev/shm/bundlegate-test-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return;
  struct stat a, b;
  if (::stat(templ.c_str(), &a) == 0 && ::stat(near.c_str(), &b) == 0 && a.st_dev != b.st_dev) {
    path_ = templ;
  } else {
    fs::remove_all(templ);
  }
}

OtherFilesystemDir::~OtherFilesystemDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

}  // namespace bg::test

#include "plugins/sdk/serve.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

namespace bg::sdk {
namespace {

double NowMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

bool WriteAll(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Threads of this process: fork is safe only with one (the child would inherit locks held by
// threads that do not exist in it).
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

// The envelope line, read a byte at a time (it is short, and nothing after it may be consumed
// into a buffer that outlives the frame). False at end of input or on a line over 4 KiB.
bool ReadEnvelope(int fd, std::string* line) {
  line->clear();
  while (line->size() < 4096) {
    char c;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    if (c == '\n') return true;
    line->push_back(c);
  }
  return false;
}

// Exactly `out->size()` bytes, read straight into `out` (no intermediate buffer to wipe).
bool ReadExactly(int fd, std::string* out) {
  std::size_t done = 0;
  while (done < out->size()) {
    const ssize_t n = ::read(fd, out->data() + done, out->size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// The line as a JSON object; null when it is not one.
Json ParseLine(const std::string& text) {
  try {
    Json j = Json::parse(text);
    return j.is_object() ? j : Json();
  } catch (const Json::exception&) {
    return Json();
  }
}

void Wipe(std::string& s) {
  if (s.capacity() > 0) ::explicit_bzero(s.data(), s.capacity());
  s.clear();
  s.shrink_to_fit();
}

PluginResult ErrorResult(const std::string& what) {
  auto r = PluginResult::Error(kReasonPluginError, "the check could not run: " + what);
  r.details["error"] = what;
  return r;
}

// In the forked child: never returns.
[[noreturn]] void RunChild(const PluginSpec& spec, const std::string& request_text, int result_fd,
                           int response_fd) {
  ::setpgid(0, 0);
  // Nothing of the worker's channels: not the next request, not the response stream.
  const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  ::close(response_fd);
  // TODO(warm worker): PreparedSandbox::Enter(&report) goes here, before the request is parsed.
  PluginResult result;
  try {
    auto request = ParseRequest(request_text);
    result = request.ok() ? spec.check(*request) : ErrorResult(request.status().message());
  } catch (const std::exception& e) {
    result = ErrorResult(std::string("internal error: ") + e.what());
  } catch (...) {
    result = ErrorResult("internal error: unknown exception");
  }
  std::cout.flush();
  std::fflush(nullptr);
  ::_exit(WriteAll(result_fd, DumpJson(result.ToJson())) ? 0 : 1);
}

// Reads the child's result until EOF or the deadline (at most kMaxRequestBytes kept); false on
// timeout.
bool ReadResult(int fd, double deadline_ms, std::string* out) {
  out->reserve(1 << 16);
  while (true) {
    const double left = deadline_ms - NowMs();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left) + 1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    if (out->size() == out->capacity()) {
      if (out->size() >= kMaxRequestBytes) {  // an endless result: read and drop the rest
        char sink[4096];
        const ssize_t n = ::read(fd, sink, sizeof sink);
        ::explicit_bzero(sink, sizeof sink);
        if (n <= 0 && !(n < 0 && errno == EINTR)) return true;
        continue;
      }
      std::string bigger;
      bigger.reserve(out->capacity() * 2);
      bigger.assign(*out);
      Wipe(*out);
      *out = std::move(bigger);
    }
    const std::size_t old = out->size();
    out->resize(out->capacity());
    const ssize_t n = ::read(fd, out->data() + old, out->size() - old);
    out->resize(old + static_cast<std::size_t>(n > 0 ? n : 0));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
  }
}

// One frame: the envelope is parsed here, the request only in the child; the child's result
// is passed on as bytes, never parsed here. Both are wiped from this process's memory.
bool ServeOne(const PluginSpec& spec, int response_fd) {
  std::string envelope;
  if (!ReadEnvelope(STDIN_FILENO, &envelope)) return false;
  const Json frame = ParseLine(envelope);
  Json id;
  double timeout_ms = 600e3;
  std::uint64_t bytes = 0;
  try {
    id = frame.value("id", Json());
    timeout_ms = frame.value("timeout_ms", timeout_ms);
    bytes = frame.value("bytes", bytes);
  } catch (const Json::exception&) {
    return false;  // a broken stream: the agent replaces the worker
  }
  Json response = {{"id", id}, {"bytes", 0}};
  if (bytes == 0 || bytes > kMaxRequestBytes) return false;
  std::string request(bytes, '\0');
  if (!ReadExactly(STDIN_FILENO, &request)) return false;

  std::string text;
  int fds[2] = {-1, -1};
  const double start = NowMs();
  pid_t child = -1;
  if (ThreadCount() == 1 && ::pipe2(fds, O_CLOEXEC) == 0) {
    child = ::fork();
    if (child == 0) {
      ::close(fds[0]);
      RunChild(spec, request, fds[1], response_fd);
    }
    ::close(fds[1]);
  }
  Wipe(request);  // this bundle's request lives on in the child only
  if (child < 0) {
    if (fds[0] >= 0) ::close(fds[0]);
    response["outcome"] = "refused";
  } else {
    ::setpgid(child, child);  // also in the child: whichever runs first
    const bool finished = ReadResult(fds[0], start + timeout_ms, &text);
    ::close(fds[0]);
    ::kill(-child, SIGKILL);  // on a timeout; else what the check left running in its group
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    response["ms"] = NowMs() - start;
    if (!finished) {
      response["outcome"] = "timeout";
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && !text.empty()) {
      response["outcome"] = "result";
      response["bytes"] = text.size();
    } else {
      response["outcome"] = "crashed";
      if (WIFSIGNALED(status)) response["signal"] = WTERMSIG(status);
      if (WIFEXITED(status)) response["exit"] = WEXITSTATUS(status);
    }
  }
  const bool written = WriteAll(response_fd, DumpJson(response) + "\n") &&
                       (response["outcome"] != "result" || WriteAll(response_fd, text));
  Wipe(text);
  return written;
}

}  // namespace

int ServeRequests(const PluginSpec& spec, int response_fd) {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  ::signal(SIGPIPE, SIG_IGN);
  if (!WriteAll(response_fd, DumpJson(Json{{"serve", 1}, {"kind", spec.kind}, {"pid", ::getpid()}}) + "\n")) {
    return 1;
  }
  while (ServeOne(spec, response_fd)) {
  }
  return 0;
}

}  // namespace bg::sdk

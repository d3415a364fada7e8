#include "plugins/sdk/serve.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "agent/sandbox/spec_json.h"
#include "plugins/sdk/request.h"
#include "plugins/sdk/request_child.h"

namespace bg::sdk {
namespace {

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

// The envelope line, read a byte at a time (nothing after it may be consumed into a buffer
// that outlives the frame). False at end of input or on a line over kMaxEnvelopeBytes.
bool ReadEnvelope(int fd, std::string* line) {
  line->clear();
  while (line->size() < kMaxEnvelopeBytes) {
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

// The frame's envelope. False when even its id and size cannot be read (the stream is lost:
// the worker ends); otherwise `*unusable` says what makes the request impossible to honour (a
// spec this worker does not understand, from a newer agent say), answered as "sandbox-error".
bool ParseEnvelope(const std::string& line, Json* id, ChildRequest* req, std::uint64_t* bytes,
                   std::string* unusable) {
  Json frame;
  try {
    frame = Json::parse(line);
    if (!frame.is_object()) return false;
    *id = frame.at("id");
    *bytes = frame.at("bytes").get<std::uint64_t>();
  } catch (const Json::exception&) {
    return false;
  }
  if (*bytes == 0 || *bytes > kMaxRequestBytes) return false;
  try {
    req->timeout_ms = frame.at("timeout_ms").get<double>();
    req->max_output_bytes = frame.at("max_output_bytes").get<std::uint64_t>();
    req->bundle_dir = frame.at("bundle_dir").get<std::string>();
    if (!sandbox::SpecFromJson(frame.at("sandbox"), &req->run, unusable)) return true;
  } catch (const Json::exception& e) {
    *unusable = std::string("a malformed request envelope: ") + e.what();
    return true;
  }
  if (req->timeout_ms <= 0 || req->bundle_dir.empty() || req->bundle_dir[0] != '/') {
    *unusable = "a request without a timeout or an absolute bundle_dir";
  }
  return true;
}

// One frame: the envelope is parsed here, the request only in the child; the child's result
// and output are passed on as bytes, never parsed here. All of them are wiped once sent.
bool ServeOne(const PluginSpec& spec, int response_fd) {
  std::string envelope;
  if (!ReadEnvelope(STDIN_FILENO, &envelope)) return false;
  Json id;
  ChildRequest req;
  std::uint64_t bytes = 0;
  std::string unusable;
  if (!ParseEnvelope(envelope, &id, &req, &bytes, &unusable)) return false;
  std::string request(bytes, '\0');
  if (!ReadExactly(STDIN_FILENO, &request)) {
    Wipe(request);
    return false;
  }
  req.request = &request;
  req.response_fd = response_fd;
  ChildAnswer answer;
  if (unusable.empty()) {
    RunRequestChild(spec, req, &answer);
  } else {
    answer.outcome = "sandbox-error";  // never run with less than the agent asked for
    answer.message = unusable;
  }
  Wipe(request);  // this bundle's request lived on in the child only

  Json response = {{"id", id},
                   {"outcome", answer.outcome},
                   {"bytes", answer.result.size()},
                   {"stderr_bytes", answer.stderr_tail.size()},
                   {"ms", answer.ms},
                   {"cpu_ms", answer.cpu_ms},
                   {"max_rss_kb", answer.max_rss_kb},
                   {"isolation", answer.isolation}};
  if (answer.signal) response["signal"] = answer.signal;
  if (answer.exit_code >= 0) response["exit"] = answer.exit_code;
  if (!answer.message.empty()) response["message"] = answer.message;
  const bool written = WriteAll(response_fd, DumpJson(response) + "\n") &&
                       WriteAll(response_fd, answer.result) &&
                       WriteAll(response_fd, answer.stderr_tail);
  Wipe(answer.result);
  Wipe(answer.stderr_tail);
  return written;
}

}  // namespace

int ServeRequests(const PluginSpec& spec, int response_fd) {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // Orphans of a request (a setsid grandchild where there is no PID namespace) come to the
  // worker, which kills them after each request (request_child.cpp).
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGCHLD, SIG_DFL);
  if (!WriteAll(response_fd, DumpJson(Json{{"serve", 1}, {"kind", spec.kind}, {"pid", ::getpid()}}) + "\n")) {
    return 1;
  }
  while (ServeOne(spec, response_fd)) {
  }
  return 0;
}

}  // namespace bg::sdk

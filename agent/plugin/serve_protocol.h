// The agent's half of the warm-worker protocol (plugins/sdk/serve.h has the whole of it): the
// request frame it writes, and an incremental reader of what a worker answers, turned into the
// ChildOutcome a cold run would have given, so that one function (InterpretPluginRun) judges
// both paths the same way.
//
// The reader trusts nothing: the worker is the plugin's own code, and what it forwards came
// from a request child that ran untrusted input. An envelope line over kMaxEnvelopeBytes, one
// that is not a JSON object of the expected fields, an id out of order, payloads over their
// limits: each is a broken stream (`error()`), after which the agent kills the worker.
//
// Thread safety: values; a ServeReader is used by one worker's session.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/plugin/child_process.h"
#include "agent/sandbox/sandbox.h"

namespace bg {

inline constexpr std::size_t kMaxServeEnvelopeBytes = 64 * 1024;

struct ServeRequest {
  std::uint64_t id = 0;
  std::string request;  // the plugin request, exactly as a cold run reads it on stdin
  std::string bundle_dir;
  sandbox::Spec sandbox;  // the cold run's spec for this bundle
  double timeout_ms = 0;
  std::uint64_t max_output_bytes = 0;
};

// Envelope line plus the request bytes.
std::string EncodeServeFrame(const ServeRequest& request);

struct ServeResponse {
  std::uint64_t id = 0;
  std::string outcome;  // result, crashed, timeout, overflow, sandbox-error, refused
  std::string message;
  std::string result;
  std::string stderr_tail;
  int signal = 0;
  int exit_code = -1;
  double ms = 0, cpu_ms = 0;
  std::int64_t max_rss_kb = 0;
  Json isolation = Json::object();
};

// Feeds bytes, yields the hello and then responses.
class ServeReader {
 public:
  // `max_payload`: the most result plus output bytes a response may carry.
  explicit ServeReader(std::uint64_t max_payload) : max_payload_(max_payload) {}
  void Feed(std::string_view bytes) { buffer_.append(bytes); }
  // The worker's pid once its hello has been read (0 before).
  bool ReadHello(std::string_view kind, pid_t* pid);
  // The next complete response, if one is buffered.
  std::optional<ServeResponse> Next();
  const std::string& error() const { return error_; }

 private:
  std::optional<std::string> Line();
  const std::uint64_t max_payload_;
  std::string buffer_;
  std::string error_;
  std::optional<ServeResponse> pending_;  // envelope read, payload not yet complete
  std::uint64_t result_bytes_ = 0, stderr_bytes_ = 0;
};

// What a cold run would have reported for the same events.
ChildOutcome OutcomeFromResponse(const ServeResponse& response);

// The inverse of IsolationReport::ToJson (as a worker describes its child's setup).
IsolationReport IsolationFromJson(const Json& j);

}  // namespace bg

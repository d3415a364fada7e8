#include "agent/plugin/serve_protocol.h"

#include <set>

#include "agent/sandbox/spec_json.h"

namespace bg {
namespace {

const std::set<std::string, std::less<>> kOutcomes = {"result",   "crashed",       "timeout",
                                                       "overflow", "sandbox-error", "refused"};

std::string StringOr(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string EncodeServeFrame(const ServeRequest& r) {
  const Json envelope = {{"id", r.id},
                         {"timeout_ms", r.timeout_ms},
                         {"max_output_bytes", r.max_output_bytes},
                         {"bundle_dir", r.bundle_dir},
                         {"sandbox", sandbox::SpecToJson(r.sandbox)},
                         {"bytes", r.request.size()}};
  return DumpJson(envelope) + "\n" + r.request;
}

std::optional<std::string> ServeReader::Line() {
  const auto nl = buffer_.find('\n');
  if (nl == std::string::npos) {
    if (buffer_.size() > kMaxServeEnvelopeBytes) error_ = "an envelope line over 64 KiB";
    return std::nullopt;
  }
  if (nl > kMaxServeEnvelopeBytes) {
    error_ = "an envelope line over 64 KiB";
    return std::nullopt;
  }
  std::string line = buffer_.substr(0, nl);
  buffer_.erase(0, nl + 1);
  return line;
}

bool ServeReader::ReadHello(std::string_view kind, pid_t* pid) {
  if (!error_.empty()) return false;
  auto line = Line();
  if (!line) return false;
  const Json j = Json::parse(*line, nullptr, false);
  if (!j.is_object() || j.value("serve", Json()) != 1 || StringOr(j, "kind") != kind ||
      !j.contains("pid") || !j["pid"].is_number_integer()) {
    error_ = "not a worker's hello: " + line->substr(0, 200);
    return false;
  }
  *pid = static_cast<pid_t>(j["pid"].get<std::int64_t>());
  return true;
}

std::optional<ServeResponse> ServeReader::Next() {
  if (!error_.empty()) return std::nullopt;
  if (!pending_) {
    auto line = Line();
    if (!line) return std::nullopt;
    const Json j = Json::parse(*line, nullptr, false);
    ServeResponse r;
    try {
      if (!j.is_object()) throw std::runtime_error("not an object");
      r.id = j.at("id").get<std::uint64_t>();
      r.outcome = j.at("outcome").get<std::string>();
      result_bytes_ = j.at("bytes").get<std::uint64_t>();
      stderr_bytes_ = j.value("stderr_bytes", std::uint64_t{0});
      r.ms = j.value("ms", 0.0);
      r.cpu_ms = j.value("cpu_ms", 0.0);
      r.max_rss_kb = j.value("max_rss_kb", std::int64_t{0});
      r.signal = j.value("signal", 0);
      r.exit_code = j.value("exit", -1);
      r.message = StringOr(j, "message");
      if (j.contains("isolation") && j["isolation"].is_object()) r.isolation = j["isolation"];
    } catch (const std::exception& e) {
      error_ = "a malformed response envelope: " + line->substr(0, 200);
      return std::nullopt;
    }
    if (!kOutcomes.count(r.outcome)) {
      error_ = "an unknown outcome \"" + r.outcome.substr(0, 40) + "\"";
      return std::nullopt;
    }
    if (result_bytes_ > max_payload_ || stderr_bytes_ > max_payload_ ||
        (r.outcome != "result" && result_bytes_ != 0)) {
      error_ = "a response larger than its limits";
      return std::nullopt;
    }
    pending_ = std::move(r);
  }
  if (buffer_.size() < result_bytes_ + stderr_bytes_) return std::nullopt;
  ServeResponse r = std::move(*pending_);
  pending_.reset();
  r.result = buffer_.substr(0, result_bytes_);
  r.stderr_tail = buffer_.substr(result_bytes_, stderr_bytes_);
  buffer_.erase(0, result_bytes_ + stderr_bytes_);
  return r;
}

IsolationReport IsolationFromJson(const Json& j) {
  IsolationReport report;
  report.layers = sandbox::LayersFromJson(j);
  for (const auto& l : report.layers) {
    if (l.state == sandbox::LayerState::kNotApplied) report.notes.push_back(l.name + ": " + l.why);
  }
  return report;
}

ChildOutcome OutcomeFromResponse(const ServeResponse& r) {
  ChildOutcome o;
  o.wall_ms = r.ms;
  o.cpu_ms = r.cpu_ms;
  o.max_rss_kb = r.max_rss_kb;
  o.err_tail = r.stderr_tail;
  o.err_bytes = r.stderr_tail.size();
  o.isolation = IsolationFromJson(r.isolation);
  if (r.outcome == "sandbox-error" || r.outcome == "refused") {
    o.start_error = Status::Error(r.message.empty() ? r.outcome : r.message);
    return o;
  }
  o.timed_out = r.outcome == "timeout";
  o.stdout_overflow = r.outcome == "overflow";
  o.signal = r.signal;
  o.exited = r.signal == 0 && r.exit_code >= 0;
  o.exit_code = r.exit_code;
  if (r.outcome == "result") o.out = r.result;
  return o;
}

}  // namespace bg

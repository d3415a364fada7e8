#include "agent/serving/decision.h"

#include <chrono>

#include "agent/core/clock.h"
#include "agent/core/tree_ops.h"

namespace bg {
namespace {

Json CheckSummaries(const std::vector<CheckResult>& results) {
  Json out = Json::array();
  for (const auto& r : results) {
    Json j = {{"check", r.check}, {"status", VerdictName(r.verdict)}};
    if (!r.reason.empty()) j["reason"] = r.reason;
    j["duration_ms"] = r.duration_ms;
    j["summary"] = r.summary;
    out.push_back(std::move(j));
  }
  return out;
}

Json CheckDetails(const std::vector<CheckResult>& results) {
  Json out = Json::array();
  for (const auto& r : results) out.push_back(r.ToJson());
  return out;
}

// NAME_MAX is 255: keep room for ".<timestamp>-<n>".
std::string ShortenForName(std::string s) {
  if (s.size() > 200) s.resize(200);
  return s;
}

Json RejectedBody(const WorkItem& item, const Decision& d, const Json& checks) {
  Json j;
  j["reason"] = d.reason;
  j["message"] = d.message;
  if (!d.name.empty()) j["name"] = d.name;
  if (!d.version.empty()) j["version"] = d.version;
  if (!d.digest.empty()) j["digest"] = d.digest;
  if (!d.commit.empty()) j["commit"] = d.commit;
  if (!d.signer.is_null()) j["signer"] = d.signer;
  j["inbox_name"] = item.inbox_name;
  j["intake_id"] = item.id;
  j["received_at"] = item.claimed_at;
  j["decided_at"] = d.decided_at;
  j["checks"] = checks;
  return j;
}

}  // namespace

std::string_view Decision::ActionName() const {
  switch (action) {
    case Action::kPromote: return "promote";
    case Action::kNoop: return "noop";
    case Action::kQuarantine: return "quarantine";
  }
  return "quarantine";
}

Json Decision::ToJson() const {
  return {{"action", ActionName()}, {"source", source},   {"target", target},
          {"name", name},           {"version", version}, {"digest", digest},
          {"commit", commit},       {"reason", reason},   {"message", message},
          {"checks", checks},       {"signer", signer},   {"rejected", rejected},
          {"decided_at", decided_at}};
}

Result<Decision> Decision::FromJson(const Json& j) {
  try {
    Decision d;
    const std::string action = j.at("action").get<std::string>();
    d.action = action == "promote" ? Action::kPromote
               : action == "noop"  ? Action::kNoop
                                   : Action::kQuarantine;
    d.source = j.at("source").get<std::string>();
    d.target = j.at("target").get<std::string>();
    d.name = j.value("name", "");
    d.version = j.value("version", "");
    d.digest = j.value("digest", "");
    d.commit = j.value("commit", "");
    d.reason = j.value("reason", "");
    d.message = j.value("message", "");
    d.checks = j.value("checks", Json::array());
    d.signer = j.value("signer", Json());
    d.rejected = j.value("rejected", Json());
    d.decided_at = j.value("decided_at", "");
    return d;
  } catch (const Json::exception& e) {
    return Status::Error(std::string("malformed decision record: ") + e.what());
  }
}

std::string QuarantineTarget(const ServingLayout& layout, const std::string& base) {
  const std::string stem =
      layout.quarantine + "/" + ShortenForName(base) + "." + CompactUtc(std::chrono::system_clock::now());
  std::string candidate = stem;
  for (int n = 2; PathExists(candidate); ++n) candidate = stem + "-" + std::to_string(n);
  return candidate;
}

Decision DecideFromReport(const WorkItem& item, const BundleReport& report,
                          const std::string& source, const ServingLayout& layout) {
  Decision d;
  d.source = source;
  d.decided_at = NowRfc3339();
  d.checks = CheckSummaries(report.results);
  d.signer = report.signer;
  if (report.manifest) {
    d.name = report.manifest->name;
    d.version = report.manifest->version;
    d.commit = report.manifest->source.commit;
    d.digest = report.digest;
  }
  if (report.passed) {
    d.action = report.already_served ? Decision::Action::kNoop : Decision::Action::kPromote;
    d.target = layout.VersionDir(d.name, d.version);
    return d;
  }
  d.action = Decision::Action::kQuarantine;
  d.reason = report.reason;
  d.message = report.message;
  d.target = QuarantineTarget(layout, d.name.empty() ? item.inbox_name : d.name + "@" + d.version);
  d.rejected = RejectedBody(item, d, CheckDetails(report.results));
  return d;
}

Decision DecideRejection(const WorkItem& item, Reason reason, const std::string& message,
                         const Json& details, const std::string& source,
                         const ServingLayout& layout) {
  Decision d;
  d.action = Decision::Action::kQuarantine;
  d.source = source;
  d.decided_at = NowRfc3339();
  d.reason = std::string(ReasonCode(reason));
  d.message = message;
  d.target = QuarantineTarget(layout, item.inbox_name);
  CheckResult intake = CheckResult::Fail("intake", reason, message);
  intake.details = details;
  d.checks = CheckSummaries({intake});
  d.rejected = RejectedBody(item, d, CheckDetails({intake}));
  return d;
}

}  // namespace bg

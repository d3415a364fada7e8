#include "plugins/torchscript/report.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace bg::torchscript {
namespace {

constexpr std::size_t kMaxFindings = 100;
constexpr std::array<std::string_view, 11> kOrder = {
    reason::kUnsafeModel,      reason::kModelLoadFailed, reason::kPreprocessing,
    reason::kTrainingMode,
    reason::kArchitecture,     reason::kNonFinite,     reason::kParity,
    reason::kNondeterministic, reason::kBatch,         reason::kEdgeCase,
    reason::kLatency};

std::size_t Rank(const std::string& reason) {
  return static_cast<std::size_t>(std::find(kOrder.begin(), kOrder.end(), reason) - kOrder.begin());
}

}  // namespace

Report::Report() = default;

void Report::Add(const std::string& reason, const std::string& message, sdk::Json context) {
  findings_.push_back({reason, message, std::move(context)});
}

void Report::Note(const std::string& note) { notes_.push_back(note); }

bool Report::Has(const std::string& reason) const {
  return std::any_of(findings_.begin(), findings_.end(),
                     [&](const Finding& f) { return f.reason == reason; });
}

sdk::PluginResult Report::Finish(const std::string& pass_summary) {
  sdk::Json list = sdk::Json::array();
  for (std::size_t i = 0; i < findings_.size() && i < kMaxFindings; ++i) {
    sdk::Json f = {{"reason", findings_[i].reason}, {"message", findings_[i].message}};
    for (const auto& [k, v] : findings_[i].context.items()) f[k] = v;
    list.push_back(std::move(f));
  }
  sdk::Json details = {{"findings", list}};
  if (findings_.size() > kMaxFindings)
    details["findings_omitted"] = findings_.size() - kMaxFindings;
  details["notes"] = notes_;
  for (const auto& [k, v] : details_.items()) details[k] = v;

  sdk::PluginResult result = sdk::PluginResult::Pass(pass_summary);
  if (!findings_.empty()) {
    const auto first = std::min_element(
        findings_.begin(), findings_.end(),
        [](const Finding& a, const Finding& b) { return Rank(a.reason) < Rank(b.reason); });
    std::string summary = first->message;
    if (findings_.size() > 1)
      summary += " (+" + std::to_string(findings_.size() - 1) + " more findings)";
    result = sdk::PluginResult::Fail(first->reason, summary);
  }
  result.details = std::move(details);
  result.metrics = metrics_;
  return result;
}

}  // namespace bg::torchscript

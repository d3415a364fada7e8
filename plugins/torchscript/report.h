// Report: what the check found, turned into the one result the plugin prints.
//
// Every stage adds findings (a SPEC.md reason code and a message, with the case, output or
// module it concerns) and notes (things skipped, defaults applied). The check keeps going after
// a finding where it can, so that one run shows every problem; the result's reason is the
// finding that comes first in this order (the most fundamental problem first):
//   unsafe-model, model-load-failed, preprocessing-spec-mismatch, training-mode, architecture-mismatch,
//   non-finite-output, parity-mismatch, nondeterministic, batch-inconsistent, edge-case-failed,
//   latency-budget.
// details.findings lists them all (the first 100), details.notes the notes.
//
// Thread safety: one Report per check, used from one thread.
#pragma once

#include <string>
#include <vector>

#include "plugins/sdk/json.h"
#include "plugins/sdk/result.h"

namespace bg::torchscript {

namespace reason {
inline constexpr const char* kUnsafeModel = "unsafe-model";
inline constexpr const char* kModelLoadFailed = "model-load-failed";
inline constexpr const char* kPreprocessing = "preprocessing-spec-mismatch";
inline constexpr const char* kTrainingMode = "training-mode";
inline constexpr const char* kArchitecture = "architecture-mismatch";
inline constexpr const char* kNonFinite = "non-finite-output";
inline constexpr const char* kParity = "parity-mismatch";
inline constexpr const char* kNondeterministic = "nondeterministic";
inline constexpr const char* kBatch = "batch-inconsistent";
inline constexpr const char* kEdgeCase = "edge-case-failed";
inline constexpr const char* kLatency = "latency-budget";
}  // namespace reason

class Report {
 public:
  Report();
  // `context` is merged into the finding ({"case": ..., "output": ...}).
  void Add(const std::string& reason, const std::string& message,
           sdk::Json context = sdk::Json::object());
  void Note(const std::string& note);
  bool Has(const std::string& reason) const;
  bool empty() const { return findings_.empty(); }

  // Sections of details beside findings and notes (e.g. "outputs", "architecture").
  sdk::Json& details() { return details_; }
  sdk::Json& metrics() { return metrics_; }

  // Pass with `pass_summary` when nothing was found; otherwise fail with the first reason.
  sdk::PluginResult Finish(const std::string& pass_summary);

 private:
  struct Finding {
    std::string reason;
    std::string message;
    sdk::Json context;
  };
  std::vector<Finding> findings_;
  std::vector<std::string> notes_;
  sdk::Json details_ = sdk::Json::object();
  sdk::Json metrics_ = sdk::Json::object();
};

}  // namespace bg::torchscript

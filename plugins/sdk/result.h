// The result a plugin prints on stdout (SPEC.md "Plugins"), exactly one JSON object:
//   {"protocol": 1, "status": "pass"|"fail"|"error", "reason": "<code>", "summary": "...",
//    "details": {...}, "metrics": {"<name>": <number>}}
// "fail" rejects the bundle for `reason` (one of SPEC.md's codes); "error" means the check could
// not run, and fails closed, with reason "plugin-error" unless a closer code applies. A pass has
// reason "". The summary is one line: line breaks are folded and it is cut at 300 characters
// (the full text belongs in details).
//
// Thread safety: values.
#pragma once

#include <string>

#include "plugins/sdk/json.h"

namespace bg::sdk {

inline constexpr const char* kReasonPluginError = "plugin-error";
inline constexpr std::size_t kMaxSummaryChars = 300;

enum class Outcome { kPass, kFail, kError };

struct PluginResult {
  Outcome status = Outcome::kPass;
  std::string reason;   // "" on pass
  std::string summary;  // one line
  Json details = Json::object();
  Json metrics = Json::object();  // name -> number

  static PluginResult Pass(std::string summary);
  static PluginResult Fail(std::string reason, std::string summary);
  static PluginResult Error(std::string reason, std::string summary);

  Json ToJson() const;
};

// "pass", "fail", "error"
const char* OutcomeName(Outcome outcome);
// Folds line breaks into " | " and cuts to `max_chars` (adding "...").
std::string OneLine(const std::string& text, std::size_t max_chars = kMaxSummaryChars);

}  // namespace bg::sdk

#include "plugins/sdk/result.h"

#include "plugins/sdk/request.h"

namespace bg::sdk {

PluginResult PluginResult::Pass(std::string summary) {
  return PluginResult{Outcome::kPass, "", std::move(summary)};
}

PluginResult PluginResult::Fail(std::string reason, std::string summary) {
  return PluginResult{Outcome::kFail, std::move(reason), std::move(summary)};
}

PluginResult PluginResult::Error(std::string reason, std::string summary) {
  return PluginResult{Outcome::kError, std::move(reason), std::move(summary)};
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "pass";
    case Outcome::kFail:
      return "fail";
    case Outcome::kError:
      return "error";
  }
  return "error";
}

std::string OneLine(const std::string& text, std::size_t max_chars) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\r') continue;
    if (c == '\n') {
      if (i + 1 < text.size() && !out.empty()) out += " | ";
      continue;
    }
    out += c;
  }
  if (out.size() > max_chars) out = out.substr(0, max_chars - 3) + "...";
  return out;
}

Json PluginResult::ToJson() const {
  Json j;
  j["protocol"] = kProtocolVersion;
  j["status"] = OutcomeName(status);
  j["reason"] = status == Outcome::kPass ? "" : reason;
  j["summary"] = OneLine(summary);
  j["details"] = details.is_object() ? details : Json::object();
  j["metrics"] = metrics.is_object() ? metrics : Json::object();
  return j;
}

}  // namespace bg::sdk

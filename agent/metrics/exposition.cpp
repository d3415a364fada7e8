#include "agent/metrics/exposition.h"

#include <cstdlib>

#include "agent/metrics/openmetrics_format.h"
#include "agent/metrics/text_format.h"

namespace bg {
namespace {

constexpr const char* kTextType = "text/plain; version=0.0.4; charset=utf-8";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct MediaRange {
  std::string type;     // "application/openmetrics-text", lower case
  std::string version;  // the version parameter, if any
  double q = 1;
};

MediaRange ParseRange(std::string_view text) {
  MediaRange r;
  std::size_t semi = text.find(';');
  r.type = Lower(Trim(text.substr(0, semi)));
  while (semi != std::string_view::npos) {
    const std::size_t next = text.find(';', semi + 1);
    const std::string_view param = Trim(text.substr(semi + 1, next - semi - 1));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos) {
      const std::string key = Lower(Trim(param.substr(0, eq)));
      std::string value(Trim(param.substr(eq + 1)));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      if (key == "q") {
        char* end = nullptr;
        const double q = std::strtod(value.c_str(), &end);
        r.q = (end != value.c_str() && q >= 0 && q <= 1) ? q : 0;
      } else if (key == "version") {
        r.version = value;
      }
    }
    semi = next;
  }
  return r;
}

}  // namespace

Exposition NegotiateExposition(std::string_view accept) {
  double best_text = 0;
  double best_om = 0;
  std::string om_version = "1.0.0";
  std::size_t start = 0;
  while (start <= accept.size()) {
    const std::size_t comma = std::min(accept.find(',', start), accept.size());
    const MediaRange r = ParseRange(accept.substr(start, comma - start));
    start = comma + 1;
    if (r.q <= 0) continue;
    if (r.type == "application/openmetrics-text") {
      if ((r.version.empty() || r.version == "1.0.0" || r.version == "0.0.1") && r.q > best_om) {
        best_om = r.q;
        om_version = r.version.empty() ? "1.0.0" : r.version;
      }
    } else if (r.type == "text/plain" || r.type == "text/*" || r.type == "*/*") {
      if (r.version.empty() || r.version == "0.0.4") best_text = std::max(best_text, r.q);
    }
  }
  if (best_om > 0 && best_om >= best_text) {
    return {ExpositionFormat::kOpenMetrics,
            "application/openmetrics-text; version=" + om_version + "; charset=utf-8"};
  }
  return {ExpositionFormat::kPrometheusText, kTextType};
}

std::string WriteExposition(ExpositionFormat format, const std::vector<MetricFamily>& families) {
  return format == ExpositionFormat::kOpenMetrics ? WriteOpenMetrics(families)
                                                  : WritePrometheusText(families);
}

}  // namespace bg

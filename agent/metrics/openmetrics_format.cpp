#include "agent/metrics/openmetrics_format.h"

#include "agent/metrics/metric_text.h"
#include "agent/metrics/sample_line.h"

namespace bg {
namespace {

const char* TypeWord(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kStateSet: return "stateset";
    case MetricType::kInfo: return "info";
  }
  return "unknown";
}

void AppendHistogram(std::string& out, const std::string& name, const MetricSample& s) {
  const HistogramPoint& h = s.histogram;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    const MetricLabel le{"le", FormatCanonicalBound(h.bounds[i])};
    AppendSampleLine(out, name + "_bucket", s.labels, &le,
                     FormatMetricValue(static_cast<double>(h.bucket_counts[i])));
  }
  const MetricLabel inf{"le", "+Inf"};
  const std::string count = FormatMetricValue(static_cast<double>(h.count));
  AppendSampleLine(out, name + "_bucket", s.labels, &inf, count);
  AppendSampleLine(out, name + "_count", s.labels, nullptr, count);
  AppendSampleLine(out, name + "_sum", s.labels, nullptr, FormatMetricValue(h.sum));
}

}  // namespace

std::string WriteOpenMetrics(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& f : families) {
    out += "# TYPE " + f.name + " " + TypeWord(f.type) + "\n";
    if (!f.unit.empty()) out += "# UNIT " + f.name + " " + f.unit + "\n";
    out += "# HELP " + f.name + " " + EscapeHelpOpenMetrics(f.help) + "\n";
    for (const auto& s : f.samples) {
      switch (f.type) {
        case MetricType::kHistogram:
          AppendHistogram(out, f.name, s);
          break;
        case MetricType::kCounter:
          AppendSampleLine(out, f.name + "_total", s.labels, nullptr, FormatMetricValue(s.value));
          break;
        case MetricType::kInfo:
          AppendSampleLine(out, f.name + "_info", s.labels, nullptr, "1");
          break;
        default:
          AppendSampleLine(out, f.name, s.labels, nullptr, FormatMetricValue(s.value));
          break;
      }
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace bg

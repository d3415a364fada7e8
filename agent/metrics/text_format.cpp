#include "agent/metrics/text_format.h"


#include "agent/metrics/metric_text.h"
#include "agent/metrics/sample_line.h"

namespace bg {
namespace {

std::string SampleName(const MetricFamily& f) {
  switch (f.type) {
    case MetricType::kCounter: return f.name + "_total";
    case MetricType::kInfo: return f.name + "_info";
    default: return f.name;
  }
}

const char* TypeWord(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kHistogram: return "histogram";
    default: return "gauge";  // gauges, state sets and info are all gauges in 0.0.4
  }
}

void AppendHistogram(std::string& out, const std::string& name, const MetricSample& s) {
  const HistogramPoint& h = s.histogram;
  for (std::size_t i = 0; i < h.bounds.size(); ++i) {
    const MetricLabel le{"le", FormatMetricValue(h.bounds[i])};
    AppendSampleLine(out, name + "_bucket", s.labels, &le,
                     FormatMetricValue(static_cast<double>(h.bucket_counts[i])));
  }
  const MetricLabel inf{"le", "+Inf"};
  const std::string count = FormatMetricValue(static_cast<double>(h.count));
  AppendSampleLine(out, name + "_bucket", s.labels, &inf, count);
  AppendSampleLine(out, name + "_sum", s.labels, nullptr, FormatMetricValue(h.sum));
  AppendSampleLine(out, name + "_count", s.labels, nullptr, count);
}

}  // namespace

std::string WritePrometheusText(const std::vector<MetricFamily>& families) {
  std::string out;
  for (const auto& f : families) {
    const std::string name = SampleName(f);
    out += "# HELP " + name + " " + EscapeHelpText(f.help) + "\n";
    out += "# TYPE " + name + " " + TypeWord(f.type) + "\n";
    for (const auto& s : f.samples) {
      if (f.type == MetricType::kHistogram) {
        AppendHistogram(out, name, s);
      } else {
        AppendSampleLine(out, name, s.labels, nullptr, FormatMetricValue(s.value));
      }
    }
  }
  return out;
}

}  // namespace bg

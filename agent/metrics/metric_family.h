// MetricFamily: what one scrape shows of one metric, whatever the exposition format.
//
// The registry (registry.h) and the agent's scrape-time collectors produce these; the writers
// (text_format.h, openmetrics_format.h) render them. Names follow OpenMetrics: a family's name
// carries no type suffix ("bundlegate_decisions", not "..._total"; "bundlegate_build", not
// "..._info"), and ends in "_<unit>" when it has a unit. The writers add the suffixes each
// format wants.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bg {

enum class MetricType {
  kCounter,    // Prometheus counter; samples are "<name>_total"
  kGauge,
  kHistogram,  // fixed buckets; "<name>_bucket", "<name>_sum", "<name>_count"
  kStateSet,   // one sample per state, labelled <name>="<state>", value 1 or 0 (a gauge in 0.0.4)
  kInfo,       // one sample per label set, value 1, "<name>_info" (a gauge in 0.0.4)
};

struct MetricLabel {
  std::string name;
  std::string value;  // raw: the writers escape it
};
using MetricLabels = std::vector<MetricLabel>;

// A histogram's state: `bucket_counts[i]` observations <= `bounds[i]` (cumulative); `count`
// is the +Inf bucket.
struct HistogramPoint {
  std::vector<double> bounds;
  std::vector<std::uint64_t> bucket_counts;
  double sum = 0;
  std::uint64_t count = 0;
};

struct MetricSample {
  MetricLabels labels;
  double value = 0;          // counters, gauges, states, info (always 1)
  HistogramPoint histogram;  // histograms
};

struct MetricFamily {
  std::string name;
  std::string help;
  std::string unit;  // "seconds", "bytes", or "" (then the name has no unit suffix)
  MetricType type = MetricType::kGauge;
  std::vector<MetricSample> samples;
};

}  // namespace bg

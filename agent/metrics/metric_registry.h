// MetricRegistry: the metrics a component keeps, registered once at startup, updated where
// things happen, and read at scrape time (Collect) in registration order.
//
// Names are checked when registered (metric_text.h); an invalid name or label name is a
// programming error (asserted). Values other parts of the process keep themselves (the audit
// log's counts, queue lengths, free disk space) are not registered here: the agent reads them at
// scrape time and appends their families to Collect()'s.
//
// Thread safety: none; a registry and its series belong to one thread (the agent's loop).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/metrics/metric_family.h"
#include "agent/metrics/metric_series.h"

namespace bg {

class MetricRegistry {
 public:
  static constexpr std::size_t kDefaultMaxSeries = 1000;

  SeriesFamily<Counter>& AddCounter(MetricInfo info, std::vector<std::string> labels = {},
                                    std::size_t max_series = kDefaultMaxSeries);
  SeriesFamily<Gauge>& AddGauge(MetricInfo info, std::vector<std::string> labels = {},
                                std::size_t max_series = kDefaultMaxSeries);
  SeriesFamily<Histogram>& AddHistogram(MetricInfo info, std::vector<double> bounds,
                                        std::vector<std::string> labels = {},
                                        std::size_t max_series = kDefaultMaxSeries);

  std::vector<MetricFamily> Collect() const;

 private:
  template <typename Metric>
  SeriesFamily<Metric>& Add(MetricInfo info, MetricType type, std::vector<std::string> labels,
                            std::size_t max_series, std::function<Metric()> make);

  std::vector<std::unique_ptr<MetricSource>> sources_;
};

// Whether `info` and `labels` are acceptable names (used by the registry's asserts and tests).
bool IsValidMetricInfo(const MetricInfo& info, const std::vector<std::string>& labels);

}  // namespace bg

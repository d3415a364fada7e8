#include "agent/metrics/metric_registry.h"

#include <cassert>

#include "agent/metrics/metric_text.h"

namespace bg {

bool IsValidMetricInfo(const MetricInfo& info, const std::vector<std::string>& labels) {
  if (!IsValidMetricName(info.name)) return false;
  if (!info.unit.empty()) {
    const std::string suffix = "_" + info.unit;
    if (info.name.size() <= suffix.size() ||
        info.name.compare(info.name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      return false;
    }
  }
  for (const auto& label : labels) {
    if (!IsValidLabelName(label) || label == "le" || label == "quantile") return false;
  }
  return true;
}

template <typename Metric>
SeriesFamily<Metric>& MetricRegistry::Add(MetricInfo info, MetricType type,
                                          std::vector<std::string> labels, std::size_t max_series,
                                          std::function<Metric()> make) {
  assert(IsValidMetricInfo(info, labels));
  auto family = std::make_unique<SeriesFamily<Metric>>(std::move(info), type, std::move(labels),
                                                       max_series, std::move(make));
  auto& ref = *family;
  sources_.push_back(std::move(family));
  return ref;
}

SeriesFamily<Counter>& MetricRegistry::AddCounter(MetricInfo info, std::vector<std::string> labels,
                                                  std::size_t max_series) {
  return Add<Counter>(std::move(info), MetricType::kCounter, std::move(labels), max_series,
                      [] { return Counter(); });
}

SeriesFamily<Gauge>& MetricRegistry::AddGauge(MetricInfo info, std::vector<std::string> labels,
                                              std::size_t max_series) {
  return Add<Gauge>(std::move(info), MetricType::kGauge, std::move(labels), max_series,
                    [] { return Gauge(); });
}

SeriesFamily<Histogram>& MetricRegistry::AddHistogram(MetricInfo info, std::vector<double> bounds,
                                                      std::vector<std::string> labels,
                                                      std::size_t max_series) {
  return Add<Histogram>(std::move(info), MetricType::kHistogram, std::move(labels), max_series,
                        [bounds = std::move(bounds)] { return Histogram(bounds); });
}

std::vector<MetricFamily> MetricRegistry::Collect() const {
  std::vector<MetricFamily> out;
  out.reserve(sources_.size());
  for (const auto& source : sources_) out.push_back(source->Snapshot());
  return out;
}

}  // namespace bg

// SeriesFamily<Metric>: one metric (a Counter, Gauge or Histogram) per set of label values,
// with a bound on how many sets there may be.
//
// Label values come from the agent's own vocabulary wherever it can (reason codes, check kinds
// of the config); the bound is the second fence, against a value set that grows without end:
// once `max_series` sets exist, every new set is counted in one overflow series whose labels
// all read "other", so the total stays right and the series count stays bounded.
//
// Thread safety: none; owned by one thread (the agent's loop).
#pragma once

#include <cassert>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "agent/metrics/counter.h"
#include "agent/metrics/gauge.h"
#include "agent/metrics/histogram.h"
#include "agent/metrics/metric_family.h"

namespace bg {

// What a registry keeps: something that can show itself as a MetricFamily.
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  virtual MetricFamily Snapshot() const = 0;
};

struct MetricInfo {
  std::string name;  // without type suffixes; ends in "_<unit>" when `unit` is set
  std::string help;
  std::string unit;
};

inline void FillSample(const Counter& c, MetricSample& s) { s.value = c.value(); }
inline void FillSample(const Gauge& g, MetricSample& s) { s.value = g.value(); }
inline void FillSample(const Histogram& h, MetricSample& s) { s.histogram = h.Point(); }

template <typename Metric>
class SeriesFamily : public MetricSource {
 public:
  SeriesFamily(MetricInfo info, MetricType type, std::vector<std::string> label_names,
               std::size_t max_series, std::function<Metric()> make)
      : info_(std::move(info)),
        type_(type),
        label_names_(std::move(label_names)),
        max_series_(max_series),
        make_(std::move(make)) {}

  // The series for `values` (one per label name, in order), created at zero on first use.
  Metric& With(const std::vector<std::string>& values) {
    assert(values.size() == label_names_.size());
    auto it = series_.find(values);
    if (it != series_.end()) return it->second;
    if (series_.size() >= max_series_) {
      std::vector<std::string> other(label_names_.size(), "other");
      auto overflow = series_.find(other);
      if (overflow == series_.end()) overflow = series_.emplace(other, make_()).first;
      return overflow->second;
    }
    return series_.emplace(values, make_()).first->second;
  }
  // The only series of a family without labels.
  Metric& Get() { return With({}); }

  MetricFamily Snapshot() const override {
    MetricFamily f{info_.name, info_.help, info_.unit, type_, {}};
    for (const auto& [values, metric] : series_) {
      MetricSample s;
      for (std::size_t i = 0; i < values.size(); ++i) s.labels.push_back({label_names_[i], values[i]});
      FillSample(metric, s);
      f.samples.push_back(std::move(s));
    }
    return f;
  }

 private:
  MetricInfo info_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::size_t max_series_;
  std::function<Metric()> make_;
  std::map<std::vector<std::string>, Metric> series_;  // sorted: a stable exposition order
};

}  // namespace bg

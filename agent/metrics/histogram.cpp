#include "agent/metrics/histogram.h"

#include <algorithm>
#include <cmath>

namespace bg {

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  bounds_.erase(std::remove_if(bounds_.begin(), bounds_.end(),
                               [](double b) { return !std::isfinite(b); }),
                bounds_.end());
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  per_bucket_.assign(bounds_.size(), 0);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  if (it != bounds_.end()) ++per_bucket_[static_cast<std::size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

HistogramPoint Histogram::Point() const {
  HistogramPoint p;
  p.bounds = bounds_;
  std::uint64_t running = 0;
  for (std::uint64_t n : per_bucket_) {
    running += n;
    p.bucket_counts.push_back(running);
  }
  p.sum = sum_;
  p.count = count_;
  return p;
}

std::vector<double> CheckDurationBounds() {
  return {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
}

std::vector<double> LatencyBoundsLong() {
  return {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200};
}

}  // namespace bg

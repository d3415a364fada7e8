// Histogram: observations counted into fixed buckets (Prometheus' cumulative `le` buckets),
// with their sum and count. The bounds are chosen once, when the metric is registered, so that
// series stay comparable over time and aggregate across agents.
//
// Thread safety: none; owned by one thread.
#pragma once

#include <cstdint>
#include <vector>

#include "agent/metrics/metric_family.h"

namespace bg {

class Histogram {
 public:
  // `bounds`: finite upper bounds; sorted and de-duplicated here (+Inf is implicit).
  explicit Histogram(std::vector<double> bounds);

  // Counts `value` in the first bucket whose bound is >= value. NaN is ignored.
  void Observe(double value);

  // Cumulative counts, as the exposition formats want them.
  HistogramPoint Point() const;
  std::uint64_t count() const { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> per_bucket_;  // not cumulative; one per bound
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

// Bounds in seconds for how long checks take: 1 ms to 10 minutes.
std::vector<double> CheckDurationBounds();
// Bounds in seconds for how long a bundle waits from first sight to decision: 50 ms to 2 hours.
std::vector<double> LatencyBoundsLong();

}  // namespace bg

// The Prometheus text exposition format, version 0.0.4 ("text/plain; version=0.0.4"), as
// `promtool check metrics` and every Prometheus server read it.
//
// Each family gets "# HELP" and "# TYPE" lines under the name its samples carry: counters as
// "<name>_total", info families as "<name>_info" (type gauge), state sets as gauges. Histograms
// write "_bucket" lines for every bound and "+Inf", then "_sum" and "_count".
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include "agent/metrics/metric_family.h"

namespace bg {

std::string WritePrometheusText(const std::vector<MetricFamily>& families);

}  // namespace bg

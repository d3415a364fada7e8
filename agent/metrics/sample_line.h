// One sample line of either text format: `name{a="x",b="y"} value\n`, labels escaped. Shared by
// text_format.cpp and openmetrics_format.cpp.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "agent/metrics/metric_family.h"

namespace bg {

// Appends the sample line; `extra` (the "le" of a bucket) comes after the sample's own labels.
void AppendSampleLine(std::string& out, std::string_view name, const MetricLabels& labels,
                      const MetricLabel* extra, std::string_view value);

}  // namespace bg

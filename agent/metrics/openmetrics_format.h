// The OpenMetrics 1.0 text format ("application/openmetrics-text; version=1.0.0"), which
// Prometheus asks for first when it scrapes.
//
// Per family: "# TYPE", "# UNIT" (when it has one), "# HELP" under the family's own name;
// samples "<name>_total" for counters, "<name>_info" for info, "<name>{<name>=\"state\"}" for
// state sets; histogram bounds in the canonical form ("1.0", "0.005", "+Inf"); the exposition
// ends with "# EOF".
//
// Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

#include "agent/metrics/metric_family.h"

namespace bg {

std::string WriteOpenMetrics(const std::vector<MetricFamily>& families);

}  // namespace bg

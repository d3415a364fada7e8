// The standard process_* families every Prometheus client library exports, so that the usual
// dashboards and alerts work on the agent as they do on any exporter: CPU seconds, resident and
// virtual memory, start time, the open-file limit. Read from /proc/self/stat (one small read a
// scrape; the boot time from /proc/stat is read once).
//
// Thread safety: safe from any thread.
#pragma once

#include <vector>

#include "agent/metrics/metric_family.h"

namespace bg {

// The families; empty where /proc cannot be read (they are then left out, not reported as 0).
std::vector<MetricFamily> CollectProcessMetrics();

}  // namespace bg

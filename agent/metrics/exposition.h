// Exposition: which format a scraper gets, from its Accept header, and the body in it.
//
// OpenMetrics 1.0 when the Accept header lists application/openmetrics-text (version 1.0.0, or
// 0.0.1, or none) with a quality at least that of every text/plain range; the Prometheus text
// format 0.0.4 otherwise, including for an absent, empty or unparseable header and for
// "*/*" (what curl sends). Prometheus 2.x sends
//   application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,
//   text/plain;version=0.0.4;q=0.5,*/*;q=0.1
// and so gets OpenMetrics.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/metrics/metric_family.h"

namespace bg {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

struct Exposition {
  ExpositionFormat format = ExpositionFormat::kPrometheusText;
  std::string content_type;  // the Content-Type header to answer with
};

Exposition NegotiateExposition(std::string_view accept);

std::string WriteExposition(ExpositionFormat format, const std::vector<MetricFamily>& families);

}  // namespace bg

// The metrics registry and its two exposition formats: exact output for small registries,
// escaping, number rendering, histogram buckets, the series cap and Accept negotiation.
// (Whether Prometheus itself and promtool accept the agent's real output is tested against the
// real tools in tests/integration/agent_prometheus_test.cpp.)
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "agent/metrics/exposition.h"
#include "agent/metrics/metric_registry.h"
#include "agent/metrics/metric_text.h"
#include "agent/metrics/openmetrics_format.h"
#include "agent/metrics/text_format.h"

using namespace bg;

TEST_CASE("numbers are written as Go's shortest 'g' rendering") {
  CHECK(FormatMetricValue(0) == "0");
  CHECK(FormatMetricValue(17) == "17");
  CHECK(FormatMetricValue(-3) == "-3");
  CHECK(FormatMetricValue(0.25) == "0.25");
  CHECK(FormatMetricValue(0.005) == "0.005");
  CHECK(FormatMetricValue(0.0001) == "0.0001");
  CHECK(FormatMetricValue(0.00001) == "1e-05");
  CHECK(FormatMetricValue(100000) == "100000");
  CHECK(FormatMetricValue(123456.5) == "123456.5");
  CHECK(FormatMetricValue(1e6) == "1e+06");
  CHECK(FormatMetricValue(1234567) == "1.234567e+06");
  CHECK(FormatMetricValue(1.7961682e9) == "1.7961682e+09");
  CHECK(FormatMetricValue(1e100) == "1e+100");
  CHECK(FormatMetricValue(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(FormatMetricValue(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(FormatMetricValue(std::nan("")) == "NaN");
  // Round trip: every digit that matters, no more.
  CHECK(std::stod(FormatMetricValue(0.1 + 0.2)) == 0.1 + 0.2);
}

TEST_CASE("bucket bounds take OpenMetrics' canonical form") {
  // The spec's own examples.
  CHECK(FormatCanonicalBound(0) == "0.0");
  CHECK(FormatCanonicalBound(0.001) == "0.001");
  CHECK(FormatCanonicalBound(0.95) == "0.95");
  CHECK(FormatCanonicalBound(1) == "1.0");
  CHECK(FormatCanonicalBound(10) == "10.0");
  CHECK(FormatCanonicalBound(1e-10) == "1e-10");
  CHECK(FormatCanonicalBound(1e-9) == "1e-09");
  CHECK(FormatCanonicalBound(100000) == "100000.0");
  CHECK(FormatCanonicalBound(1e6) == "1e+06");
}

TEST_CASE("names and escaping") {
  CHECK(IsValidMetricName("bundlegate_decisions"));
  CHECK_FALSE(IsValidMetricName("bundlegate:decisions"));
  CHECK_FALSE(IsValidMetricName("__reserved"));
  CHECK_FALSE(IsValidMetricName("1abc"));
  CHECK_FALSE(IsValidMetricName(""));
  CHECK(IsValidLabelName("model"));
  CHECK_FALSE(IsValidLabelName("mo-del"));
  CHECK(EscapeLabelValue("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
  CHECK(EscapeLabelValue("caf\xC3\xA9") == "caf\xC3\xA9");             // valid UTF-8 stays
  CHECK(EscapeLabelValue("x\xFFy") == "x\xEF\xBF\xBDy");               // invalid -> U+FFFD
  CHECK(EscapeLabelValue("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");   // overlong
  CHECK(EscapeLabelValue("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  CHECK(EscapeHelpText("say \"hi\"\\\n") == "say \"hi\"\\\\\\n");
  CHECK(EscapeHelpOpenMetrics("say \"hi\"") == "say \\\"hi\\\"");
}

TEST_CASE("a metric needs a valid name, a unit suffix matching its unit, and no reserved label") {
  CHECK(IsValidMetricInfo({"a_seconds", "h", "seconds"}, {"kind"}));
  CHECK_FALSE(IsValidMetricInfo({"a_duration", "h", "seconds"}, {}));
  CHECK_FALSE(IsValidMetricInfo({"seconds", "h", "seconds"}, {}));
  CHECK_FALSE(IsValidMetricInfo({"a", "h", ""}, {"le"}));
  CHECK_FALSE(IsValidMetricInfo({"a", "h", ""}, {"quantile"}));
  CHECK_FALSE(IsValidMetricInfo({"a", "h", ""}, {"bad-label"}));
}

TEST_CASE("histograms count into cumulative buckets") {
  Histogram h({1, 0.5, 2, 2, std::numeric_limits<double>::infinity()});
  for (double v : {0.1, 0.5, 0.7, 3.0, std::nan("")}) h.Observe(v);
  const HistogramPoint p = h.Point();
  CHECK(p.bounds == std::vector<double>{0.5, 1, 2});
  CHECK(p.bucket_counts == std::vector<std::uint64_t>{2, 3, 3});  // le is inclusive
  CHECK(p.count == 4);
  CHECK(p.sum == Approx(4.3));
}

namespace {

MetricRegistry SmallRegistry() {
  MetricRegistry r;
  auto& decisions = r.AddCounter({"app_decisions", "Decisions \"made\".", ""}, {"outcome"});
  decisions.With({"promoted"}).Inc(2);
  decisions.With({"re\"jected\n"}).Inc();
  r.AddGauge({"app_free_bytes", "Free bytes.", "bytes"}).Get().Set(1e6);
  auto& h = r.AddHistogram({"app_check_seconds", "Check time.", "seconds"}, {0.5, 1}, {"kind"});
  h.With({"git"}).Observe(0.25);
  h.With({"git"}).Observe(2);
  return r;
}

}  // namespace

TEST_CASE("the Prometheus text format, exactly") {
  const std::string text = WritePrometheusText(SmallRegistry().Collect());
  CHECK(text ==
        "# HELP app_decisions_total Decisions \"made\".\n"
        "# TYPE app_decisions_total counter\n"
        "app_decisions_total{outcome=\"promoted\"} 2\n"
        "app_decisions_total{outcome=\"re\\\"jected\\n\"} 1\n"
        "# HELP app_free_bytes Free bytes.\n"
        "# TYPE app_free_bytes gauge\n"
        "app_free_bytes 1e+06\n"
        "# HELP app_check_seconds Check time.\n"
        "# TYPE app_check_seconds histogram\n"
        "app_check_seconds_bucket{kind=\"git\",le=\"0.5\"} 1\n"
        "app_check_seconds_bucket{kind=\"git\",le=\"1\"} 1\n"
        "app_check_seconds_bucket{kind=\"git\",le=\"+Inf\"} 2\n"
        "app_check_seconds_sum{kind=\"git\"} 2.25\n"
        "app_check_seconds_count{kind=\"git\"} 2\n");
}

TEST_CASE("the OpenMetrics format, exactly") {
  const std::string text = WriteOpenMetrics(SmallRegistry().Collect());
  CHECK(text ==
        "# TYPE app_decisions counter\n"
        "# HELP app_decisions Decisions \\\"made\\\".\n"
        "app_decisions_total{outcome=\"promoted\"} 2\n"
        "app_decisions_total{outcome=\"re\\\"jected\\n\"} 1\n"
        "# TYPE app_free_bytes gauge\n"
        "# UNIT app_free_bytes bytes\n"
        "# HELP app_free_bytes Free bytes.\n"
        "app_free_bytes 1e+06\n"
        "# TYPE app_check_seconds histogram\n"
        "# UNIT app_check_seconds seconds\n"
        "# HELP app_check_seconds Check time.\n"
        "app_check_seconds_bucket{kind=\"git\",le=\"0.5\"} 1\n"
        "app_check_seconds_bucket{kind=\"git\",le=\"1.0\"} 1\n"
        "app_check_seconds_bucket{kind=\"git\",le=\"+Inf\"} 2\n"
        "app_check_seconds_count{kind=\"git\"} 2\n"
        "app_check_seconds_sum{kind=\"git\"} 2.25\n"
        "# EOF\n");
}

TEST_CASE("state sets and info families in both formats") {
  MetricFamily state{"app_state", "State.", "", MetricType::kStateSet, {}};
  state.samples.push_back({{{"app_state", "running"}}, 1, {}});
  state.samples.push_back({{{"app_state", "draining"}}, 0, {}});
  MetricFamily build{"app_build", "Build.", "", MetricType::kInfo, {}};
  build.samples.push_back({{{"version", "1.2"}}, 1, {}});
  const std::vector<MetricFamily> families = {state, build};
  CHECK(WritePrometheusText(families) ==
        "# HELP app_state State.\n# TYPE app_state gauge\n"
        "app_state{app_state=\"running\"} 1\napp_state{app_state=\"draining\"} 0\n"
        "# HELP app_build_info Build.\n# TYPE app_build_info gauge\n"
        "app_build_info{version=\"1.2\"} 1\n");
  CHECK(WriteOpenMetrics(families) ==
        "# TYPE app_state stateset\n# HELP app_state State.\n"
        "app_state{app_state=\"running\"} 1\napp_state{app_state=\"draining\"} 0\n"
        "# TYPE app_build info\n# HELP app_build Build.\n"
        "app_build_info{version=\"1.2\"} 1\n# EOF\n");
}

TEST_CASE("a family stops growing at its series cap, the excess counted under \"other\"") {
  MetricRegistry r;
  auto& f = r.AddCounter({"app_by_name", "By name.", ""}, {"name"}, 3);
  for (int i = 0; i < 100; ++i) f.With({"n" + std::to_string(i)}).Inc();
  const auto families = r.Collect();
  REQUIRE(families.size() == 1);
  REQUIRE(families[0].samples.size() == 4);  // 3, and the overflow series
  double total = 0;
  bool other = false;
  for (const auto& s : families[0].samples) {
    total += s.value;
    other = other || s.labels[0].value == "other";
  }
  CHECK(total == 100);
  CHECK(other);
}

TEST_CASE("Accept negotiation: OpenMetrics only when asked for") {
  const std::string prometheus =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
      "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  CHECK(NegotiateExposition(prometheus).format == ExpositionFormat::kOpenMetrics);
  CHECK(NegotiateExposition(prometheus).content_type ==
        "application/openmetrics-text; version=1.0.0; charset=utf-8");
  CHECK(NegotiateExposition("application/openmetrics-text; version=0.0.1").content_type ==
        "application/openmetrics-text; version=0.0.1; charset=utf-8");
  CHECK(NegotiateExposition("Application/OpenMetrics-Text").format == ExpositionFormat::kOpenMetrics);
  for (const char* text : {"", "*/*", "text/plain", "text/plain;version=0.0.4",
                           "application/openmetrics-text;version=9.9.9",
                           "application/openmetrics-text;q=0, text/plain",
                           "text/plain;q=1, application/openmetrics-text;q=0.5", ";;;,,=q",
                           "application/json"}) {
    INFO(text);
    CHECK(NegotiateExposition(text).format == ExpositionFormat::kPrometheusText);
    CHECK(NegotiateExposition(text).content_type == "text/plain; version=0.0.4; charset=utf-8");
  }
  CHECK(WriteExposition(ExpositionFormat::kOpenMetrics, {}) == "# EOF\n");
  CHECK(WriteExposition(ExpositionFormat::kPrometheusText, {}).empty());
}

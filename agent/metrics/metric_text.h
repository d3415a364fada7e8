// The lexical rules shared by both exposition formats: which names are valid, how label values
// and HELP texts are escaped, and how numbers are written.
//
// Numbers follow Go's strconv 'g' rendering with the shortest round-trip digits (what the
// Prometheus client libraries write): 17, 0.25, 1e+06, 1e-05, +Inf, -Inf, NaN. OpenMetrics'
// canonical form for "le" bounds adds ".0" where that rendering has neither '.' nor an exponent
// ("1.0", "10.0").
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace bg {

// [a-zA-Z_][a-zA-Z0-9_]*: Prometheus' metric name rule, without ':' (reserved for recording
// rules), and not starting with "__" (reserved).
bool IsValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__".
bool IsValidLabelName(std::string_view name);

// A label value escaped for both formats: '\' -> "\\", '"' -> "\"", newline -> "\n"; invalid
// UTF-8 (names on disk are bytes) becomes U+FFFD, which Prometheus would otherwise reject.
std::string EscapeLabelValue(std::string_view value);
// HELP text for 0.0.4: '\' and newline escaped (quotes stay as they are).
std::string EscapeHelpText(std::string_view help);
// HELP text for OpenMetrics: '\', '"' and newline escaped.
std::string EscapeHelpOpenMetrics(std::string_view help);

// `value` as Go's strconv.FormatFloat(value, 'g', -1, 64), with "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);
// A bucket bound in OpenMetrics' canonical form: FormatMetricValue plus ".0" when that has
// neither a '.' nor an exponent.
std::string FormatCanonicalBound(double value);

}  // namespace bg

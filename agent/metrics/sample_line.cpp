#include "agent/metrics/sample_line.h"

#include "agent/metrics/metric_text.h"

namespace bg {

void AppendSampleLine(std::string& out, std::string_view name, const MetricLabels& labels,
                      const MetricLabel* extra, std::string_view value) {
  out += name;
  if (!labels.empty() || extra != nullptr) {
    out += '{';
    bool first = true;
    const auto append = [&](const MetricLabel& l) {
      if (!first) out += ',';
      first = false;
      out += l.name;
      out += "=\"";
      out += EscapeLabelValue(l.value);
      out += '"';
    };
    for (const auto& l : labels) append(l);
    if (extra != nullptr) append(*extra);
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace bg

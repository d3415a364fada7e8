// LatencyStage (stages.h): the p99 forward time of the first case against latency_budget_ms.
#include <algorithm>
#include <cmath>

#include "plugins/torchscript/stages.h"

namespace bg::torchscript {
namespace {

// Nearest-rank percentile of sorted samples.
double Percentile(const std::vector<double>& sorted, double p) {
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

}  // namespace

void LatencyStage(CheckContext& ctx, const TorchModel& model) {
  if (!ctx.options.latency_budget_ms || ctx.cases.empty() || !ctx.outputs.front()) return;
  const ParityCase& c = ctx.cases.front();
  std::vector<double> samples;
  for (std::int64_t i = 0; i < ctx.options.latency_runs; ++i) {
    double ms = 0;
    auto out = TimedForward(model, c.inputs, &ms);
    if (!out.ok()) {
      ctx.report.Add(reason::kLatency, "case '" + c.name + "' raised while timed: " +
                                           Headline(out.status().message()));
      return;
    }
    samples.push_back(ms);
  }
  std::sort(samples.begin(), samples.end());
  const double p99 = Percentile(samples, 99), budget = *ctx.options.latency_budget_ms;
  auto& m = ctx.report.metrics();
  m["latency_p50_ms"] = Percentile(samples, 50);
  m["latency_p99_ms"] = p99;
  m["latency_max_ms"] = samples.back();
  if (p99 > budget) {
    ctx.report.Add(reason::kLatency,
                   "case '" + c.name + "': p99 forward time " + Num(p99) + " ms over " +
                       std::to_string(samples.size()) + " runs exceeds the budget of " +
                       Num(budget) + " ms",
                   {{"case", c.name}, {"p99_ms", p99}, {"budget_ms", budget}});
    return;
  }
  ctx.passed.push_back("p99 " + Num(p99) + " ms within " + Num(budget) + " ms");
}

}  // namespace bg::torchscript

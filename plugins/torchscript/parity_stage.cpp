// ParityStage and OtherDeviceStage (stages.h): the recorded cases against the recorded outputs.
#include <algorithm>

#include "plugins/torchscript/stages.h"
#include "plugins/torchscript/tensor_ops.h"

namespace bg::torchscript {
namespace {

constexpr std::size_t kMaxOutputDetails = 200;

sdk::Json OutputDetail(const ParityCase& c, const OutputCheck& check, const std::string& device) {
  sdk::Json j = {{"case", c.name}, {"output", check.key}, {"device", device}};
  const NamedOutput* expected = FindOutput(c.expected, check.key);
  if (expected) {
    j["dtype"] = sdk::TorchName(expected->tensor.dtype);
    j["shape"] = expected->tensor.shape;
  }
  j["rtol"] = check.tolerance.rtol;
  j["atol"] = check.tolerance.atol;
  j["tolerance_source"] = check.tolerance.source;
  if (!check.problem.empty()) {
    j["problem"] = check.problem;
    return j;
  }
  const sdk::Json stats = check.comparison.ToJson();
  for (const auto& [k, v] : stats.items()) j[k] = v;
  if (expected && check.comparison.worst_index >= 0 && !check.comparison.ok()) {
    j["worst"] = {{"index", IndexString(expected->tensor.shape, check.comparison.worst_index)},
                  {"actual", check.comparison.worst_actual},
                  {"expected", check.comparison.worst_expected}};
  }
  return j;
}

void AddOutputDetail(CheckContext& ctx, sdk::Json detail) {
  auto& list = ctx.report.details()["outputs"];
  if (!list.is_array()) list = sdk::Json::array();
  if (list.size() < kMaxOutputDetails) list.push_back(std::move(detail));
}

void TrackWorst(CheckContext& ctx, const OutputComparison& r) {
  auto& m = ctx.report.metrics();
  if (!r.problem.empty()) return;
  m["max_abs_err"] = std::max(m.value("max_abs_err", 0.0), r.max_abs_err);
  m["max_rel_err"] = std::max(m.value("max_rel_err", 0.0), r.max_rel_err);
}

// An expected floating-point output whose every element lies within atol of zero cannot show
// a change of the model: any output that small passes. Said once per output, as a note (the
// producer's parity data proves less than it seems to; random-init mobilenets do this).
void NoteVacuous(CheckContext& ctx, const ParityCase& c, const OutputCheck& check) {
  const NamedOutput* expected = FindOutput(c.expected, check.key);
  if (!expected || !sdk::IsFloating(expected->tensor.dtype) || expected->tensor.Numel() == 0 ||
      MaxAbsFinite(expected->tensor) > check.tolerance.atol) {
    return;
  }
  ctx.report.Note("case '" + c.name + "' output '" + check.key + "': every expected value is within atol=" +
                  Num(check.tolerance.atol) +
                  " of zero (max " + Num(MaxAbsFinite(expected->tensor)) +
                  "), so this comparison cannot tell a changed model; record inputs that give "
                  "outputs of a meaningful size, or set a smaller atol for it");
}

// Compares one case's outputs with the expected ones and reports each mismatch.
void CheckCase(CheckContext& ctx, const ParityCase& c, const Outputs& actual,
               const std::string& device, const std::string& where) {
  for (const auto& check : CompareOutputs(ctx, c.name, actual, c.expected, Comparison::kTolerance)) {
    AddOutputDetail(ctx, OutputDetail(c, check, device));
    TrackWorst(ctx, check.comparison);
    if (where.empty()) NoteVacuous(ctx, c, check);
    if (check.problem.empty() && check.comparison.ok()) continue;
    const sdk::Json context = {{"case", c.name}, {"output", check.key}, {"device", device}};
    const std::string prefix = "case '" + c.name + "' output '" + check.key + "'" + where + ": ";
    const auto& r = check.comparison;
    if (check.problem.empty() && r.nonfinite > 0) {
      const NamedOutput* expected = FindOutput(c.expected, check.key);
      const std::string at =
          expected ? " (first at " + IndexString(expected->tensor.shape, r.worst_index) + ")" : "";
      ctx.report.Add(reason::kNonFinite,
                     prefix + std::to_string(r.nonfinite) +
                         " non-finite value(s) where finite ones were expected" + at,
                     context);
      if (r.mismatched == r.nonfinite) continue;  // the finite elements all match
    }
    ctx.report.Add(reason::kParity, prefix + MismatchText(check), context);
  }
}

void ReportRaised(CheckContext& ctx, const ParityCase& c, const sdk::Status& error,
                  const std::string& device, const std::string& where) {
  ctx.report.Add(reason::kParity,
                 "case '" + c.name + "'" + where + ": forward raised: " + Headline(error.message()),
                 {{"case", c.name}, {"device", device}, {"error", error.message()}});
}

}  // namespace

void ParityStage(CheckContext& ctx, const TorchModel& model) {
  const std::string& device = ctx.options.devices.front();
  double total_ms = 0;
  for (std::size_t i = 0; i < ctx.cases.size(); ++i) {
    const ParityCase& c = ctx.cases[i];
    double ms = 0;
    auto outputs = TimedForward(model, c.inputs, &ms);
    ctx.report.metrics()["forward_ms." + c.name] = ms;
    total_ms += ms;
    if (!outputs.ok()) {
      ReportRaised(ctx, c, outputs.status(), device, "");
      continue;
    }
    CheckCase(ctx, c, *outputs, device, "");
    ctx.outputs[i] = std::move(outputs).value();
  }
  ctx.report.metrics()["forward_ms_total"] = total_ms;
  if (!ctx.report.Has(reason::kParity) && !ctx.report.Has(reason::kNonFinite)) {
    ctx.passed.push_back(std::to_string(ctx.cases.size()) + " case(s) match on " + device);
  }
}

void OtherDeviceStage(CheckContext& ctx, const TorchModel& model, const std::string& device,
                      const std::string& primary) {
  const std::string where = " on " + device;
  for (std::size_t i = 0; i < ctx.cases.size(); ++i) {
    const ParityCase& c = ctx.cases[i];
    double ms = 0;
    auto outputs = TimedForward(model, c.inputs, &ms);
    ctx.report.metrics()["forward_ms." + c.name + "." + device] = ms;
    if (!outputs.ok()) {
      ReportRaised(ctx, c, outputs.status(), device, where);
      continue;
    }
    CheckCase(ctx, c, *outputs, device, where);
    if (!ctx.outputs[i]) continue;
    for (const auto& check :
         CompareOutputs(ctx, c.name, *outputs, *ctx.outputs[i], Comparison::kTolerance)) {
      if (check.problem.empty() && check.comparison.ok()) continue;
      ctx.report.Add(reason::kParity,
                     "case '" + c.name + "' output '" + check.key + "': " + device +
                         " differs from " + primary + ": " + MismatchText(check),
                     {{"case", c.name}, {"output", check.key}, {"device", device}});
    }
  }
}

}  // namespace bg::torchscript

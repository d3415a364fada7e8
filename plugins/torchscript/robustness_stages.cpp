// DeterminismStage, BatchStage and EdgeCaseStage (stages.h): how the model behaves beyond the
// recorded calls.
#include "plugins/torchscript/stages.h"
#include "plugins/torchscript/tensor_ops.h"

namespace bg::torchscript {
namespace {

// `count` row indices spread evenly over [0, batch).
std::vector<std::int64_t> SpreadRows(std::int64_t batch, std::int64_t count) {
  std::vector<std::int64_t> rows;
  if (count >= batch) {
    for (std::int64_t r = 0; r < batch; ++r) rows.push_back(r);
    return rows;
  }
  for (std::int64_t i = 0; i < count; ++i) {
    rows.push_back(count == 1 ? 0 : i * (batch - 1) / (count - 1));
  }
  return rows;
}

std::vector<sdk::HostTensor> Rows(const std::vector<sdk::HostTensor>& inputs, std::int64_t begin,
                                  std::int64_t count) {
  std::vector<sdk::HostTensor> out;
  for (const auto& t : inputs) out.push_back(SliceRows(t, begin, count));
  return out;
}

// Row `row` of every batched output (leading dimension `batch`); the others are left out.
Outputs OutputRows(const Outputs& outputs, std::int64_t batch, std::int64_t row) {
  Outputs out;
  for (const auto& o : outputs) {
    if (!o.tensor.shape.empty() && o.tensor.shape[0] == batch)
      out.push_back({o.key, SliceRows(o.tensor, row, 1)});
  }
  return out;
}

// The first case whose inputs share a leading dimension (>= 1), for the edge cases.
const ParityCase* EdgeCase(const CheckContext& ctx, std::int64_t* batch) {
  for (const auto& c : ctx.cases) {
    const auto dim = SharedLeadingDim(c.inputs);
    if (dim && *dim >= 1) {
      *batch = *dim;
      return &c;
    }
  }
  return nullptr;
}

void CheckRow(CheckContext& ctx, const ParityCase& c, const Outputs& batched, std::int64_t batch,
              std::int64_t row, const TorchModel& model) {
  const sdk::Json context = {{"case", c.name}, {"row", row}};
  const std::string prefix = "case '" + c.name + "' row " + std::to_string(row) + " run alone";
  double ms = 0;
  auto alone = TimedForward(model, Rows(c.inputs, row, 1), &ms);
  if (!alone.ok()) {
    ctx.report.Add(reason::kBatch, prefix + " raised: " + Headline(alone.status().message()),
                   context);
    return;
  }
  // Only the batched outputs are compared (an output without the batch dimension, e.g. a
  // constant, has no row); the row run's outputs of other keys are ignored.
  const Outputs reference = OutputRows(batched, batch, row);
  Outputs rows;
  for (auto& o : *alone) {
    if (FindOutput(reference, o.key)) rows.push_back(std::move(o));
  }
  for (const auto& check : CompareOutputs(ctx, c.name, rows, reference, Comparison::kKernelNoise)) {
    if (check.problem.empty() && check.comparison.ok()) continue;
    ctx.report.Add(reason::kBatch,
                   prefix + ": output '" + check.key +
                       "' differs from its row of the batched output: " + MismatchText(check),
                   context);
  }
}

void EmptyBatchCheck(CheckContext& ctx, const TorchModel& model, const ParityCase& c,
                     std::int64_t batch) {
  const EmptyBatchMode mode = ctx.options.empty_batch;
  auto out = model.Forward(Rows(c.inputs, 0, 0));
  const std::string prefix = "empty batch (case '" + c.name + "' with 0 rows)";
  if (!out.ok()) {
    if (mode == EmptyBatchMode::kEmptyOutput) {
      ctx.report.Add(reason::kEdgeCase, prefix + " raised: " + Headline(out.status().message()) +
                                            " (empty_batch = \"empty-output\")");
    }
    return;
  }
  if (mode == EmptyBatchMode::kError) {
    ctx.report.Add(reason::kEdgeCase,
                   prefix + " returned outputs instead of an error (empty_batch = \"error\")");
    return;
  }
  for (const auto& expected : c.expected) {
    if (expected.tensor.shape.empty() || expected.tensor.shape[0] != batch) continue;
    const NamedOutput* got = FindOutput(*out, expected.key);
    if (!got || got->tensor.shape.empty() || got->tensor.shape[0] != 0) {
      ctx.report.Add(reason::kEdgeCase,
                     prefix + ": output '" + expected.key + "' is " +
                         (got ? "of shape " + sdk::ShapeString(got->tensor.shape) : "missing") +
                         ", not empty");
    }
  }
}

void WrongDtypeCheck(CheckContext& ctx, const TorchModel& model, const ParityCase& c) {
  std::vector<sdk::HostTensor> inputs;
  for (const auto& t : Rows(c.inputs, 0, 1)) inputs.push_back(WrongDtypeZeros(t));
  auto out = model.Forward(inputs);
  if (out.ok() && ctx.options.wrong_dtype == WrongDtypeMode::kError) {
    ctx.report.Add(reason::kEdgeCase,
                   "inputs of the wrong dtype (" + std::string(sdk::TorchName(inputs[0].dtype)) +
                       " for " + std::string(sdk::TorchName(c.inputs[0].dtype)) +
                       ") were accepted without an error (wrong_dtype = \"error\")",
                   {{"case", c.name}});
  }
  if (!out.ok()) ctx.report.details()["wrong_dtype_error"] = Headline(out.status().message());
}

}  // namespace

void DeterminismStage(CheckContext& ctx, const TorchModel& model) {
  if (ctx.options.deterministic == DeterminismMode::kOff) return;
  const bool bitwise = ctx.options.deterministic == DeterminismMode::kBitwise;
  for (std::size_t i = 0; i < ctx.cases.size(); ++i) {
    if (!ctx.outputs[i]) continue;
    const ParityCase& c = ctx.cases[i];
    auto again = model.Forward(c.inputs);
    if (!again.ok()) {
      ctx.report.Add(
          reason::kNondeterministic,
          "case '" + c.name + "': the second run raised: " + Headline(again.status().message()),
          {{"case", c.name}});
      continue;
    }
    for (const auto& check : CompareOutputs(ctx, c.name, *again, *ctx.outputs[i],
                                             bitwise ? Comparison::kExact : Comparison::kTolerance)) {
      const NamedOutput* got = FindOutput(*again, check.key);
      const NamedOutput* first = FindOutput(*ctx.outputs[i], check.key);
      const bool same = bitwise ? got && first && BitwiseEqual(got->tensor, first->tensor)
                                : check.problem.empty() && check.comparison.ok();
      if (same) continue;
      ctx.report.Add(reason::kNondeterministic,
                     "case '" + c.name + "' output '" + check.key +
                         "': the second run differs from the first: " + MismatchText(check),
                     {{"case", c.name}, {"output", check.key}});
    }
  }
  if (!ctx.report.Has(reason::kNondeterministic))
    ctx.passed.push_back(bitwise ? "bitwise deterministic" : "deterministic");
}

void BatchStage(CheckContext& ctx, const TorchModel& model) {
  if (!ctx.options.batch_consistency) return;
  std::int64_t rows_run = 0;
  for (std::size_t i = 0; i < ctx.cases.size(); ++i) {
    const ParityCase& c = ctx.cases[i];
    const auto batch = SharedLeadingDim(c.inputs);
    if (!ctx.outputs[i] || !batch || *batch < 2) continue;
    if (*batch > ctx.manifest.max_batch) {
      ctx.report.Note("case '" + c.name + "' has a batch of " + std::to_string(*batch) +
                      ", above inference.max_batch " + std::to_string(ctx.manifest.max_batch));
    }
    for (const auto row : SpreadRows(*batch, ctx.options.batch_rows)) {
      CheckRow(ctx, c, *ctx.outputs[i], *batch, row, model);
      ++rows_run;
    }
  }
  ctx.report.metrics()["batch_rows_checked"] = rows_run;
  if (rows_run == 0) {
    ctx.report.Note(
        "no batched case (all inputs sharing a leading dimension > 1): batch consistency not "
        "checked");
  } else if (!ctx.report.Has(reason::kBatch)) {
    ctx.passed.push_back("batch-consistent (" + std::to_string(rows_run) + " rows)");
  }
}

void EdgeCaseStage(CheckContext& ctx, const TorchModel& model) {
  std::int64_t batch = 0;
  const ParityCase* c = EdgeCase(ctx, &batch);
  if (!c) {
    ctx.report.Note("no case whose inputs share a leading dimension: edge cases not run");
    return;
  }
  if (ctx.options.empty_batch != EmptyBatchMode::kSkip) EmptyBatchCheck(ctx, model, *c, batch);
  if (ctx.options.wrong_dtype != WrongDtypeMode::kSkip) WrongDtypeCheck(ctx, model, *c);
  if (!ctx.report.Has(reason::kEdgeCase)) ctx.passed.push_back("edge cases");
}

}  // namespace bg::torchscript

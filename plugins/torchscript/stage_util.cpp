// Helpers shared by the stages (declared in stages.h).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "plugins/torchscript/stages.h"
#include "plugins/torchscript/tensor_ops.h"

namespace bg::torchscript {

std::vector<OutputCheck> CompareOutputs(const CheckContext& ctx, const std::string& case_name,
                                        const Outputs& actual, const Outputs& reference,
                                        Comparison how) {
  std::vector<OutputCheck> checks;
  for (const auto& ref : reference) {
    OutputCheck c;
    c.key = ref.key;
    c.tolerance =
        how == Comparison::kExact
            ? Tolerance{0, 0, "exact"}
            : ResolveTolerance(case_name, ref.key, ref.tensor.dtype, ctx.options, ctx.manifest);
    if (how == Comparison::kKernelNoise && sdk::IsFloating(ref.tensor.dtype)) {
      const double floor = c.tolerance.rtol * MaxAbsFinite(ref.tensor);
      if (floor > c.tolerance.atol) {
        c.tolerance.atol = floor;
        c.tolerance.source += ", atol raised to rtol x max|output|";
      }
    }
    const NamedOutput* got = FindOutput(actual, ref.key);
    if (got) {
      c.comparison = CompareTensors(got->tensor, ref.tensor, c.tolerance);
    } else {
      c.problem = "output '" + ref.key + "' is missing";
    }
    checks.push_back(std::move(c));
  }
  for (const auto& got : actual) {
    if (!FindOutput(reference, got.key)) {
      checks.push_back({got.key, "output '" + got.key + "' is unexpected", {}, {}});
    }
  }
  return checks;
}

std::string MismatchText(const OutputCheck& c) {
  if (!c.problem.empty()) return c.problem;
  const auto& r = c.comparison;
  if (!r.problem.empty()) return r.problem;
  std::string s = std::to_string(r.mismatched) + " of " + std::to_string(r.numel) +
                  " elements outside rtol=" + Num(c.tolerance.rtol) +
                  " atol=" + Num(c.tolerance.atol) + " (max abs err " + Num(r.max_abs_err) +
                  ", max rel err " + Num(r.max_rel_err);
  if (r.min_atol) s += "; would pass with atol >= " + Num(*r.min_atol);
  if (r.min_rtol)
    s += (r.min_atol ? " or rtol >= " : "; would pass with rtol >= ") + Num(*r.min_rtol);
  return s + ")";
}

sdk::Result<Outputs> TimedForward(const TorchModel& model,
                                  const std::vector<sdk::HostTensor>& inputs, double* ms) {
  const auto start = std::chrono::steady_clock::now();
  auto out = model.Forward(inputs);
  *ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return out;
}

std::string Headline(const std::string& error) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start <= error.size()) {
    const auto end = std::min(error.find('\n', start), error.size());
    const auto line = error.substr(start, end - start);
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
    start = end + 1;
  }
  if (lines.empty()) return "(no message)";
  const bool traceback = error.find("TorchScript interpreter") != std::string::npos ||
                         error.find("Traceback of TorchScript") != std::string::npos;
  return traceback ? lines.back() : lines.front();
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

}  // namespace bg::torchscript

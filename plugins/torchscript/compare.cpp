#include "plugins/torchscript/compare.h"

#include <algorithm>
#include <cmath>

#include "plugins/torchscript/tensor_ops.h"

namespace bg::torchscript {
namespace {

std::string Problem(const sdk::HostTensor& actual, const sdk::HostTensor& expected) {
  if (actual.dtype != expected.dtype) {
    return "dtype " + std::string(sdk::TorchName(actual.dtype)) + ", expected " +
           std::string(sdk::TorchName(expected.dtype));
  }
  if (actual.shape != expected.shape) {
    return "shape " + sdk::ShapeString(actual.shape) + ", expected " +
           sdk::ShapeString(expected.shape);
  }
  return "";
}

bool SameNonFinite(double a, double e) { return (std::isnan(a) && std::isnan(e)) || a == e; }

// Accumulates the statistics element by element.
class Accumulator {
 public:
  Accumulator(const Tolerance& tol, bool exact) : tol_(tol), exact_(exact) {}

  void Add(std::int64_t i, double a, double e, bool equal_ints) {
    if (!std::isfinite(e)) return NonFiniteExpected(i, a, e);
    if (!std::isfinite(a)) return Fail(i, a, e, /*nonfinite=*/true);
    const double diff = std::fabs(a - e), mag = std::fabs(e);
    const bool pass = exact_ ? equal_ints : diff <= tol_.atol + tol_.rtol * mag;
    if (!pass) ++r_.mismatched;
    ++finite_;
    sum_abs_ += diff;
    if (!nonfinite_mismatch_ && (diff > r_.max_abs_err || r_.worst_index < 0)) Worst(i, a, e);
    r_.max_abs_err = std::max(r_.max_abs_err, diff);
    need_atol_ = std::max(need_atol_, diff - tol_.rtol * mag);
    if (mag > 0) {
      ++nonzero_;
      sum_rel_ += diff / mag;
      r_.max_rel_err = std::max(r_.max_rel_err, diff / mag);
      need_rtol_ = std::max(need_rtol_, (diff - tol_.atol) / mag);
    } else if (diff > tol_.atol) {
      rtol_impossible_ = true;
    }
  }

  OutputComparison Finish(std::int64_t numel) {
    r_.numel = numel;
    r_.mean_abs_err = finite_ ? sum_abs_ / static_cast<double>(finite_) : 0;
    r_.mean_rel_err = nonzero_ ? sum_rel_ / static_cast<double>(nonzero_) : 0;
    if (!nonfinite_mismatch_) r_.min_atol = std::max(0.0, need_atol_);
    if (!nonfinite_mismatch_ && !rtol_impossible_) r_.min_rtol = std::max(0.0, need_rtol_);
    return r_;
  }

 private:
  void NonFiniteExpected(std::int64_t i, double a, double e) {
    if (!SameNonFinite(a, e)) Fail(i, a, e, false);
  }
  // A non-finite mismatch: the first one is shown as the worst element.
  void Fail(std::int64_t i, double a, double e, bool nonfinite) {
    ++r_.mismatched;
    if (nonfinite) ++r_.nonfinite;
    if (!nonfinite_mismatch_) Worst(i, a, e);
    nonfinite_mismatch_ = true;
  }
  void Worst(std::int64_t i, double a, double e) {
    r_.worst_index = i;
    r_.worst_actual = a;
    r_.worst_expected = e;
  }

  Tolerance tol_;
  bool exact_;
  OutputComparison r_;
  std::int64_t finite_ = 0, nonzero_ = 0;
  double sum_abs_ = 0, sum_rel_ = 0, need_atol_ = 0, need_rtol_ = 0;
  bool rtol_impossible_ = false, nonfinite_mismatch_ = false;
};

sdk::Json NumberOrNull(const std::optional<double>& v) { return v ? sdk::Json(*v) : sdk::Json(); }

}  // namespace

OutputComparison CompareTensors(const sdk::HostTensor& actual, const sdk::HostTensor& expected,
                                const Tolerance& tolerance) {
  OutputComparison result;
  result.problem = Problem(actual, expected);
  if (!result.problem.empty()) return result;
  const bool floating = sdk::IsFloating(expected.dtype);
  const bool exact = !floating && tolerance.rtol == 0 && tolerance.atol == 0;
  Accumulator acc(tolerance, exact);
  const std::int64_t n = expected.Numel();
  for (std::int64_t i = 0; i < n; ++i) {
    const bool equal_ints = !floating && ElementAsInt(actual, i) == ElementAsInt(expected, i);
    acc.Add(i, ElementAsDouble(actual, i), ElementAsDouble(expected, i), equal_ints);
  }
  return acc.Finish(n);
}

std::string IndexString(const std::vector<std::int64_t>& shape, std::int64_t index) {
  std::vector<std::int64_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    if (shape[d] == 0) break;
    idx[d] = index % shape[d];
    index /= shape[d];
  }
  return sdk::ShapeString(idx);
}

sdk::Json OutputComparison::ToJson() const {
  if (!problem.empty()) return {{"problem", problem}};
  sdk::Json j = {{"numel", numel},
                 {"mismatched", mismatched},
                 {"nonfinite", nonfinite},
                 {"max_abs_err", max_abs_err},
                 {"mean_abs_err", mean_abs_err},
                 {"max_rel_err", max_rel_err},
                 {"mean_rel_err", mean_rel_err},
                 {"min_rtol", NumberOrNull(min_rtol)},
                 {"min_atol", NumberOrNull(min_atol)}};
  return j;
}

}  // namespace bg::torchscript

// Comparing one output tensor with its expected value, as torch.testing.assert_close does, and
// measuring by how much it differs.
//
// dtype and shape must be equal exactly. An element passes when
//   |actual - expected| <= atol + rtol * |expected|;
// integer and bool elements with zero tolerances must be equal. Non-finite values: where the
// expected element is finite, a non-finite actual one fails and is counted as `nonfinite` (the
// check reports non-finite-output); where the expected element is NaN or infinite, the actual
// one must be the same (NaN matches NaN, +inf matches +inf). Error statistics cover the elements
// where both values are finite; relative errors only those whose expected value is not zero.
// min_atol is the smallest atol that would pass every element with the given rtol, min_rtol the
// smallest rtol with the given atol; either is absent when no value would do (a non-finite
// mismatch, or for min_rtol an expected zero that differs by more than atol).
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "plugins/sdk/json.h"
#include "plugins/sdk/tensor.h"
#include "plugins/torchscript/tolerance.h"

namespace bg::torchscript {

struct OutputComparison {
  std::string problem;  // non-empty when not comparable (dtype or shape): no statistics
  std::int64_t numel = 0;
  std::int64_t mismatched = 0;  // elements outside tolerance, non-finite ones included
  std::int64_t nonfinite = 0;   // non-finite where a finite value was expected
  double max_abs_err = 0;
  double mean_abs_err = 0;
  double max_rel_err = 0;
  double mean_rel_err = 0;
  std::optional<double> min_atol;
  std::optional<double> min_rtol;
  std::int64_t worst_index = -1;  // flat index of the largest absolute error (or first failure)
  double worst_actual = 0;
  double worst_expected = 0;

  bool ok() const { return problem.empty() && mismatched == 0; }
  // {"numel", "mismatched", "max_abs_err", ..., "min_rtol", "min_atol"} (or {"problem"}).
  sdk::Json ToJson() const;
};

OutputComparison CompareTensors(const sdk::HostTensor& actual, const sdk::HostTensor& expected,
                                const Tolerance& tolerance);

// "[0, 17]": the multi-index of flat element `index` in `shape`.
std::string IndexString(const std::vector<std::int64_t>& shape, std::int64_t index);

}  // namespace bg::torchscript

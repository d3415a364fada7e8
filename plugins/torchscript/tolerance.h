// Tolerances: which rtol and atol apply to one output tensor, and why.
//
// An element passes when |actual - expected| <= atol + rtol * |expected|. The defaults are
// torch.testing.assert_close's, by dtype: float16 1e-3/1e-5, bfloat16 1.6e-2/1e-5, float32
// 1.3e-6/1e-5, float64 1e-7/1e-7 (rtol/atol); integers and bool exact. The first that applies
// wins, for output <key> of case <case>:
//   1. config tolerance."<case>.<key>", then config tolerance."<key>"
//   2. manifest [parity.tolerance."<case>.<key>"], then [parity.tolerance."<key>"], each
//      lowered to config max_rtol / max_atol
//   3. config rtol / atol (floating-point outputs only), each replacing its default
//   4. the default by dtype
//
// Thread safety: pure functions.
#pragma once

#include <string>

#include "plugins/sdk/dtype.h"
#include "plugins/torchscript/bundle_manifest.h"
#include "plugins/torchscript/options.h"

namespace bg::torchscript {

struct Tolerance {
  double rtol = 0;
  double atol = 0;
  std::string source;  // "default", "config", "manifest", "manifest, capped"
};

Tolerance DefaultTolerance(sdk::Dtype dtype);
Tolerance ResolveTolerance(const std::string& case_name, const std::string& key, sdk::Dtype dtype,
                           const CheckOptions& options, const BundleManifest& manifest);

}  // namespace bg::torchscript

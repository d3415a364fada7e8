#include "plugins/torchscript/tolerance.h"

#include <algorithm>

namespace bg::torchscript {
namespace {

const ToleranceSpec* Lookup(const std::map<std::string, ToleranceSpec>& table,
                            const std::string& case_name, const std::string& key) {
  auto it = table.find(case_name + "." + key);
  if (it == table.end()) it = table.find(key);
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace

Tolerance DefaultTolerance(sdk::Dtype dtype) {
  switch (dtype) {
    case sdk::Dtype::kF16:
      return {1e-3, 1e-5, "default"};
    case sdk::Dtype::kBF16:
      return {1.6e-2, 1e-5, "default"};
    case sdk::Dtype::kF32:
      return {1.3e-6, 1e-5, "default"};
    case sdk::Dtype::kF64:
      return {1e-7, 1e-7, "default"};
    default:
      return {0, 0, "default"};
  }
}

Tolerance ResolveTolerance(const std::string& case_name, const std::string& key, sdk::Dtype dtype,
                           const CheckOptions& options, const BundleManifest& manifest) {
  if (const auto* t = Lookup(options.tolerance, case_name, key))
    return {t->rtol, t->atol, "config"};
  if (const auto* t = Lookup(manifest.tolerance, case_name, key)) {
    const bool capped = t->rtol > options.max_rtol || t->atol > options.max_atol;
    return {std::min(t->rtol, options.max_rtol), std::min(t->atol, options.max_atol),
            capped ? "manifest, capped" : "manifest"};
  }
  Tolerance tol = DefaultTolerance(dtype);
  if (sdk::IsFloating(dtype) && (options.rtol || options.atol)) {
    tol.rtol = options.rtol.value_or(tol.rtol);
    tol.atol = options.atol.value_or(tol.atol);
    tol.source = "config";
  }
  return tol;
}

}  // namespace bg::torchscript

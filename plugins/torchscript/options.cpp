#include "plugins/torchscript/options.h"

#include <limits>

#include "plugins/sdk/config_reader.h"

namespace bg::torchscript {
namespace {

constexpr double kHuge = std::numeric_limits<double>::max();

void ReadToleranceTable(sdk::ConfigReader& r, CheckOptions& o) {
  const sdk::Json* table = r.Table("tolerance");
  if (!table) return;
  for (const auto& [key, value] : table->items()) {
    sdk::ConfigReader entry(value, r.Path("tolerance") + "." + key);
    const auto rtol = entry.Number("rtol", 0, kHuge);
    const auto atol = entry.Number("atol", 0, kHuge);
    if (!rtol || !atol) entry.Fail("rtol", "and atol are both required");
    const sdk::Status s = entry.Finish();
    if (!s.ok()) r.Fail("tolerance", s.message());
    if (rtol && atol) o.tolerance[key] = ToleranceSpec{*rtol, *atol};
  }
}

void ReadModes(sdk::ConfigReader& r, CheckOptions& o) {
  if (auto v = r.Choice("deterministic", {"bitwise", "tolerance", "off"})) {
    o.deterministic = *v == "bitwise"     ? DeterminismMode::kBitwise
                      : *v == "tolerance" ? DeterminismMode::kTolerance
                                          : DeterminismMode::kOff;
  }
  if (auto v = r.Choice("empty_batch", {"either", "empty-output", "error", "skip"})) {
    o.empty_batch = *v == "either"         ? EmptyBatchMode::kEither
                    : *v == "empty-output" ? EmptyBatchMode::kEmptyOutput
                    : *v == "error"        ? EmptyBatchMode::kError
                                           : EmptyBatchMode::kSkip;
  }
  if (auto v = r.Choice("wrong_dtype", {"error", "either", "skip"})) {
    o.wrong_dtype = *v == "error"    ? WrongDtypeMode::kError
                    : *v == "either" ? WrongDtypeMode::kEither
                                     : WrongDtypeMode::kSkip;
  }
}

void ReadSwitches(sdk::ConfigReader& r, CheckOptions& o) {
  if (auto v = r.Bool("batch_consistency")) o.batch_consistency = *v;
  if (auto v = r.Int("batch_rows", 1, 4096)) o.batch_rows = *v;
  if (auto v = r.Bool("check_training_mode")) o.check_training_mode = *v;
  if (auto v = r.Bool("require_signature")) o.require_signature = *v;
  if (auto v = r.Bool("require_preprocessing_attribute")) o.require_preprocessing_attribute = *v;
  if (auto v = r.Bool("jit_optimize")) o.jit_optimize = *v;
  if (auto v = r.Choice("tf32", {"libtorch-default", "on", "off"})) o.tf32 = *v;
  if (auto v = r.Bool("cuda_deterministic")) o.cuda_deterministic = *v;
  if (auto v = r.Int("max_parity_bytes", 1, std::numeric_limits<std::int64_t>::max())) {
    o.max_parity_bytes = static_cast<std::uint64_t>(*v);
  }
}

}  // namespace

sdk::Result<CheckOptions> ParseCheckOptions(const sdk::Json& config,
                                            const BundleManifest& manifest) {
  CheckOptions o;
  sdk::ConfigReader r(config);
  o.rtol = r.Number("rtol", 0, kHuge);
  o.atol = r.Number("atol", 0, kHuge);
  ReadToleranceTable(r, o);
  if (auto v = r.Number("max_rtol", 0, kHuge)) o.max_rtol = *v;
  if (auto v = r.Number("max_atol", 0, kHuge)) o.max_atol = *v;
  ReadModes(r, o);
  ReadSwitches(r, o);
  if (auto v = r.Number("latency_budget_ms", 0, kHuge)) {
    if (*v <= 0) r.Fail("latency_budget_ms", "must be > 0");
    o.latency_budget_ms = *v;
  }
  if (auto v = r.Int("latency_runs", 1, 10000)) o.latency_runs = *v;
  if (auto v = r.ChoiceList("devices", {"cpu", "cuda"})) o.devices = *v;
  if (o.devices.empty()) o.devices = {manifest.device};
  BG_SDK_RETURN_IF_ERROR(r.Finish());
  return o;
}

}  // namespace bg::torchscript

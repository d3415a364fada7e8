// The stages of the TorchScript check, in the order check.cpp runs them, and the state they
// share. Each stage adds findings and details to ctx.report and never throws; a stage that
// cannot run (its prerequisite failed) returns at once. See check.h for the whole flow.
//
// Thread safety: one CheckContext per check, one thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "plugins/sdk/request.h"
#include "plugins/torchscript/bundle_manifest.h"
#include "plugins/torchscript/compare.h"
#include "plugins/torchscript/options.h"
#include "plugins/torchscript/parity_data.h"
#include "plugins/torchscript/report.h"
#include "plugins/torchscript/tolerance.h"
#include "plugins/torchscript/torch_model.h"

namespace bg::torchscript {

struct CheckContext {
  std::string bundle_dir;
  BundleManifest manifest;
  CheckOptions options;
  Report report;
  std::vector<ParityCase> cases;
  // The first run of each case on the primary device (index as in `cases`); nullopt when it
  // raised.
  std::vector<std::optional<Outputs>> outputs;
  std::vector<std::string> passed;  // what ran and passed, for the pass summary
};

// Opens the model file (O_NOFOLLOW, under bundle_dir) and loads it on `device`; adds
// model-load-failed on failure. Records load_ms for the primary device.
std::optional<TorchModel> LoadModelStage(CheckContext& ctx, const std::string& device,
                                         bool primary);
// Reads and assembles the parity data; adds parity-mismatch when it is unreadable or malformed.
bool LoadParityStage(CheckContext& ctx);

// preprocessing-spec-mismatch, training-mode, architecture-mismatch: metadata only, no forward.
void PreprocessingStage(CheckContext& ctx, const TorchModel& model);
void TrainingModeStage(CheckContext& ctx, const TorchModel& model);
void ArchitectureStage(CheckContext& ctx, const TorchModel& model);

// Runs every case once and compares with the expected outputs (non-finite-output,
// parity-mismatch); fills ctx.outputs.
void ParityStage(CheckContext& ctx, const TorchModel& model);
// Runs every case again (nondeterministic).
void DeterminismStage(CheckContext& ctx, const TorchModel& model);
// Runs rows of batched cases alone (batch-inconsistent).
void BatchStage(CheckContext& ctx, const TorchModel& model);
// Empty batch and wrong dtype (edge-case-failed).
void EdgeCaseStage(CheckContext& ctx, const TorchModel& model);
// p99 forward time of the first case (latency-budget).
void LatencyStage(CheckContext& ctx, const TorchModel& model);
// The parity cases on another device, against the expected outputs and the primary device's.
void OtherDeviceStage(CheckContext& ctx, const TorchModel& model, const std::string& device,
                      const std::string& primary);

// Helpers shared by the stages (stage_util.cpp).
struct OutputCheck {
  std::string key;
  std::string problem;  // missing or unexpected output; empty otherwise
  Tolerance tolerance;
  OutputComparison comparison;
};
// How two outputs are compared: with each output's tolerance; exactly (bit for bit); or with
// the tolerance raised to the kernels' noise floor, for two runs of this runtime that may take
// different kernels (a row alone against its batch): accumulating in another order moves an
// element by about rtol x the tensor's magnitude, however small the element itself, so atol
// becomes at least rtol x max|reference| (in float32 about 1e-6 of it; in bfloat16 1.6e-2).
enum class Comparison { kTolerance, kExact, kKernelNoise };
// Compares `actual` with `reference` key by key (missing and extra keys included), with each
// output's tolerance for `case_name`, as `how` says.
std::vector<OutputCheck> CompareOutputs(const CheckContext& ctx, const std::string& case_name,
                                        const Outputs& actual, const Outputs& reference,
                                        Comparison how);
// "12 of 1000 elements outside rtol=1.3e-06 atol=1e-05 (max abs err 0.01, ...)", or the problem.
std::string MismatchText(const OutputCheck& check);
// Runs forward and measures it, in milliseconds.
sdk::Result<Outputs> TimedForward(const TorchModel& model,
                                  const std::vector<sdk::HostTensor>& inputs, double* ms);
// The most telling line of a LibTorch error: for a TorchScript traceback its last line
// ("RuntimeError: boom"), otherwise the first.
std::string Headline(const std::string& error);
// "1.5e-06"-style rendering for messages.
std::string Num(double v);

}  // namespace bg::torchscript

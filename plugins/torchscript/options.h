// CheckOptions: the TorchScript check's configuration, from the request's "config" (the
// [[checks]] table with kind = "torchscript", minus the agent's runner keys). Every key is
// optional; an unknown key or a bad value is an error (the check reports plugin-error).
//
//   rtol, atol           numbers >= 0: replace the by-dtype defaults for every floating-point
//                        output (integer and bool outputs stay exact)
//   tolerance."<key>"    {rtol, atol}: for output <key> (or one tensor, "<case>.<key>"); wins
//                        over the manifest's [parity.tolerance."<key>"]
//   max_rtol, max_atol   caps on the tolerances a manifest may ask for (a producer must not be
//                        able to wave its own mismatch through); a larger one is lowered to the
//                        cap and noted. Default: 0.1 and 0.01
//   deterministic        "bitwise" (default): the second run of each case equals the first
//                        bit for bit; "tolerance": within the output's tolerance; "off"
//   batch_consistency    true (default): a batched case (all inputs share a leading dimension
//                        > 1) is also run row by row; each row must match its slice of the
//                        batched output within tolerance (batch-inconsistent)
//   batch_rows           how many rows of each batched case are run alone (spread over the
//                        batch), 1..4096; default 4
//   empty_batch          what an empty batch (leading dimension 0) must give: "either"
//                        (default: an empty output or a clean error), "empty-output", "error",
//                        or "skip"
//   wrong_dtype          an input of the wrong dtype (int64 for a float input, float32 for an
//                        integer or bool one) must give: "error" (default: a clean exception),
//                        "either" (an exception or any output), or "skip"
//   check_training_mode  true (default): submodules left in training mode fail (training-mode)
//   require_signature    false (default): true fails a bundle without [[model.signature]]
//                        (architecture-mismatch)
//   require_preprocessing_attribute
//                        false (default): true fails a model without a string attribute
//                        `preprocessing_version` (preprocessing-spec-mismatch)
//   latency_budget_ms    number > 0: the p99 forward time of the first case over latency_runs
//                        runs must stay within it (latency-budget). Default: not measured
//   latency_runs         1..10000; default 20
//   devices              ["cpu"], ["cuda"] or ["cpu", "cuda"]: where parity runs. Default: the
//                        manifest's inference.device. The first available device runs every
//                        stage; the others run the parity cases and are compared with the
//                        expected outputs and with the first device. An unavailable "cuda" is
//                        skipped with a note; no available device at all is an error
//   jit_optimize         true (default, as in serving): the graph executor optimizes; false
//                        runs the unoptimized graph (torch::jit::setGraphExecutorOptimize)
//   max_parity_bytes     the largest parity file read, bytes; default 1 GiB
//   tf32                 how float32 matmuls and convolutions run on CUDA, as serving runs
//                        them: "libtorch-default" (default: what a LibTorch process gets
//                        unless it changes it: cuBLAS in full float32, cuDNN convolutions in
//                        TF32), "on" (both TF32) or "off" (both full float32). TF32 keeps 10
//                        bits of mantissa: expected outputs recorded in full float32 differ by
//                        about 1e-3 relative, more than float32's default tolerance
//   cuda_deterministic   false (default): true runs CUDA with deterministic algorithms only
//                        (an op without one raises), cuDNN deterministic, no autotuning
//
// Thread safety: values and a pure function.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plugins/sdk/json.h"
#include "plugins/sdk/status.h"
#include "plugins/torchscript/bundle_manifest.h"

namespace bg::torchscript {

enum class DeterminismMode { kBitwise, kTolerance, kOff };
enum class EmptyBatchMode { kEither, kEmptyOutput, kError, kSkip };
enum class WrongDtypeMode { kError, kEither, kSkip };

struct CheckOptions {
  std::optional<double> rtol;
  std::optional<double> atol;
  std::map<std::string, ToleranceSpec> tolerance;
  double max_rtol = 0.1;
  double max_atol = 0.01;
  DeterminismMode deterministic = DeterminismMode::kBitwise;
  bool batch_consistency = true;
  std::int64_t batch_rows = 4;
  EmptyBatchMode empty_batch = EmptyBatchMode::kEither;
  WrongDtypeMode wrong_dtype = WrongDtypeMode::kError;
  bool check_training_mode = true;
  bool require_signature = false;
  bool require_preprocessing_attribute = false;
  std::optional<double> latency_budget_ms;
  std::int64_t latency_runs = 20;
  std::vector<std::string> devices;  // resolved: never empty
  bool jit_optimize = true;
  std::uint64_t max_parity_bytes = 1ull << 30;
  std::string tf32 = "libtorch-default";  // or "on", "off"
  bool cuda_deterministic = false;
};

// Reads `config`; `manifest` supplies defaults (devices). Fails listing every problem.
sdk::Result<CheckOptions> ParseCheckOptions(const sdk::Json& config,
                                            const BundleManifest& manifest);

}  // namespace bg::torchscript

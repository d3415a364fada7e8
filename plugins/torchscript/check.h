// The TorchScript parity check: one request in, one result out.
//
// Flow (each step adds findings to one Report; see report.h for which reason wins):
//   1. read the manifest fields and the config (options.h); a bad request or config is an
//      "error" result (plugin-error)
//   2. apply [inference] threads, the JIT setting, pick the devices (an unavailable "cuda" is
//      skipped with a note)
//   3. load the model on the primary device: model-load-failed ends the check here
//   4. preprocessing_version attribute, training mode, [[model.signature]]
//   5. the parity data (malformed: parity-mismatch, and the forward stages are skipped)
//   6. every case once against the expected outputs, then again (determinism), batched cases
//      row by row, the edge cases, the latency budget, and the other devices
// Metrics: load_ms (reading excluded: LibTorch's load only), forward_ms.<case>, forward_ms_total,
// max_abs_err, max_rel_err, batch_rows_checked, latency_p50_ms / latency_p99_ms / latency_max_ms,
// total_ms.
//
// Thread safety: run once per process (it sets process-wide LibTorch settings).
#pragma once

#include "plugins/sdk/request.h"
#include "plugins/sdk/result.h"

namespace bg::torchscript {

inline constexpr const char* kPluginVersion = "0.1.0";

sdk::PluginResult RunTorchscriptCheck(const sdk::Request& request);

}  // namespace bg::torchscript

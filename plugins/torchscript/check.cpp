#include "plugins/torchscript/check.h"

#include <sys/stat.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstring>

#include "plugins/torchscript/stages.h"

namespace bg::torchscript {
namespace {

sdk::PluginResult ConfigError(const std::string& message) {
  auto r = sdk::PluginResult::Error(sdk::kReasonPluginError, "the check could not run: " + message);
  r.details["error"] = message;
  return r;
}

// The devices that parity can run on here, in the configured order; notes the others.
std::vector<std::string> AvailableDevices(CheckContext& ctx, const TorchRuntime& runtime) {
  std::vector<std::string> devices;
  for (const auto& d : ctx.options.devices) {
    if (d == "cuda" && !runtime.cuda_error.empty()) continue;  // broken: see CudaBroken
    if (d == "cuda" && !runtime.cuda) {
      ctx.report.Note("cuda: not available in this runtime (LibTorch " + runtime.libtorch +
                      (runtime.cuda_device_count == 0 ? ", no CUDA device" : "") + "): skipped");
      continue;
    }
    devices.push_back(d);
  }
  return devices;
}

// CUDA that is present but fails a tiny computation is the runtime's fault, never the
// bundle's: asked for, it makes the check an error that says so (details.environment), not a
// verdict such as model-load-failed.
bool CudaBroken(const CheckContext& ctx, const TorchRuntime& runtime) {
  if (runtime.cuda_error.empty()) return false;
  for (const auto& d : ctx.options.devices) {
    if (d == "cuda") return true;
  }
  return false;
}

CudaMath CudaMathOf(const CheckOptions& o) {
  CudaMath math;
  math.tf32 = o.tf32 == "on"    ? CudaMath::Tf32::kOn
              : o.tf32 == "off" ? CudaMath::Tf32::kOff
                                : CudaMath::Tf32::kLibtorchDefault;
  math.deterministic = o.cuda_deterministic;
  return math;
}

void ApplyRuntimeSettings(CheckContext& ctx, const TorchRuntime& runtime) {
  SetTorchThreads(ctx.manifest.threads);
  SetJitOptimize(ctx.options.jit_optimize);
  sdk::Json& details = ctx.report.details()["runtime"];
  details = {{"libtorch", runtime.libtorch},
             {"devices", ctx.options.devices},
             {"threads", ctx.manifest.threads},
             {"jit_optimize", ctx.options.jit_optimize}};
  if (runtime.cuda && std::find(ctx.options.devices.begin(), ctx.options.devices.end(),
                                "cuda") != ctx.options.devices.end()) {
    const CudaMathState math = ApplyCudaMath(CudaMathOf(ctx.options));
    details["cuda"] = {{"device_count", runtime.cuda_device_count},
                       {"tf32", ctx.options.tf32},
                       {"tf32_cublas", math.tf32_cublas},
                       {"tf32_cudnn", math.tf32_cudnn},
                       {"deterministic", math.deterministic}};
  }
}

void RunForwardStages(CheckContext& ctx, const TorchModel& model) {
  ParityStage(ctx, model);
  DeterminismStage(ctx, model);
  BatchStage(ctx, model);
  EdgeCaseStage(ctx, model);
  LatencyStage(ctx, model);
}

void RunOtherDevices(CheckContext& ctx) {
  for (std::size_t i = 1; i < ctx.options.devices.size(); ++i) {
    auto model = LoadModelStage(ctx, ctx.options.devices[i], false);
    if (model) OtherDeviceStage(ctx, *model, ctx.options.devices[i], ctx.options.devices.front());
  }
}

std::string PassSummary(const CheckContext& ctx) {
  std::string s = "TorchScript parity passed:";
  for (std::size_t i = 0; i < ctx.passed.size(); ++i) s += (i ? "; " : " ") + ctx.passed[i];
  return s;
}

}  // namespace

sdk::PluginResult RunTorchscriptCheck(const sdk::Request& request) {
  const auto start = std::chrono::steady_clock::now();
  struct stat st;
  if (::stat(request.bundle_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ConfigError("bundle_dir " + request.bundle_dir + " is not a directory");
  }
  auto manifest = ParseBundleManifest(request.manifest);
  if (!manifest.ok()) return ConfigError(manifest.status().message());
  auto options = ParseCheckOptions(request.config, *manifest);
  if (!options.ok()) return ConfigError(options.status().message());
  CheckContext ctx{
      request.bundle_dir, std::move(manifest).value(), std::move(options).value(), {}, {}, {}, {}};

  const bool wants_cuda = std::find(ctx.options.devices.begin(), ctx.options.devices.end(),
                                    "cuda") != ctx.options.devices.end();
  const TorchRuntime runtime = DescribeTorchRuntime(wants_cuda);
  if (CudaBroken(ctx, runtime)) {
    auto r = ConfigError("cuda is present but not usable (LibTorch " + runtime.libtorch +
                         "): " + runtime.cuda_error);
    r.details["environment"] = true;  // the runtime's fault, not the bundle's
    return r;
  }
  ctx.options.devices = AvailableDevices(ctx, runtime);
  if (ctx.options.devices.empty()) {
    return ConfigError("no configured device is available (cuda requested; LibTorch " +
                       runtime.libtorch + " has no usable CUDA here)");
  }
  ApplyRuntimeSettings(ctx, runtime);
  if (auto model = LoadModelStage(ctx, ctx.options.devices.front(), true)) {
    PreprocessingStage(ctx, *model);
    TrainingModeStage(ctx, *model);
    ArchitectureStage(ctx, *model);
    if (LoadParityStage(ctx)) {
      RunForwardStages(ctx, *model);
      RunOtherDevices(ctx);
    }
  }
  ctx.report.metrics()["total_ms"] =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return ctx.report.Finish(PassSummary(ctx));
}

}  // namespace bg::torchscript

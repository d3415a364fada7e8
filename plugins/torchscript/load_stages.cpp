// LoadModelStage and LoadParityStage (stages.h).
#include <chrono>
#include <limits>

#include "plugins/modelscan/model_scan.h"
#include "plugins/sdk/bundle_file.h"
#include "plugins/sdk/safetensors.h"
#include "plugins/torchscript/stages.h"

namespace bg::torchscript {
namespace {

sdk::Result<sdk::SafetensorsFile> ReadSafetensors(const CheckContext& ctx,
                                                  const std::string& path) {
  BG_SDK_ASSIGN_OR_RETURN(std::string bytes,
                          sdk::ReadBundleFile(ctx.bundle_dir, path, ctx.options.max_parity_bytes));
  return sdk::SafetensorsFile::Parse(std::move(bytes), path);
}

sdk::Result<std::vector<ParityCase>> ReadCases(const CheckContext& ctx) {
  BG_SDK_ASSIGN_OR_RETURN(auto inputs, ReadSafetensors(ctx, ctx.manifest.parity_inputs));
  BG_SDK_ASSIGN_OR_RETURN(auto expected, ReadSafetensors(ctx, ctx.manifest.parity_expected));
  return BuildCases(inputs, expected);
}

}  // namespace

bool ScanStage(CheckContext& ctx, std::string_view bytes, bool primary) {
  using modelscan::ScanVerdict;
  const modelscan::ScanReport scan = modelscan::ScanModel(bytes);
  if (primary) {
    ctx.report.details()["scan"] = scan.ToJson();
    ctx.report.metrics()["scan_ms"] = scan.ms;
  }
  const std::string& path = ctx.manifest.model_path;
  switch (scan.verdict) {
    case ScanVerdict::kClean:
      return true;
    case ScanVerdict::kUnsafe: {
      const auto& first = scan.findings.front();
      ctx.report.Add(reason::kUnsafeModel, path + ": " + scan.summary,
                     {{"entry", first.entry}, {"scan_finding", first.message}});
      return false;
    }
    case ScanVerdict::kNotTorchScript:
    case ScanVerdict::kUnreadable:
      ctx.report.Add(reason::kModelLoadFailed, path + ": " + scan.summary);
      return false;
  }
  return false;
}

std::optional<TorchModel> LoadModelStage(CheckContext& ctx, const std::string& device,
                                         bool primary) {
  const std::string& path = ctx.manifest.model_path;
  const std::string where = primary ? "" : " on " + device;
  auto bytes = sdk::ReadBundleFile(ctx.bundle_dir, path, std::numeric_limits<std::uint64_t>::max());
  if (!bytes.ok()) {
    ctx.report.Add(reason::kModelLoadFailed, "cannot read the model: " + bytes.status().message());
    return std::nullopt;
  }
  if (!ScanStage(ctx, *bytes, primary)) return std::nullopt;
  const auto start = std::chrono::steady_clock::now();
  auto model = TorchModel::Load(std::move(bytes).value(), device);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (!model.ok()) {
    ctx.report.Add(reason::kModelLoadFailed,
                   path + where + ": " + Headline(model.status().message()),
                   {{"error", model.status().message()}, {"device", device}});
    return std::nullopt;
  }
  ctx.report.metrics()[primary ? "load_ms" : "load_ms." + device] = ms;
  return std::move(model).value();
}

bool LoadParityStage(CheckContext& ctx) {
  auto cases = ReadCases(ctx);
  if (!cases.ok()) {
    ctx.report.Add(reason::kParity, "parity data unusable: " + cases.status().message());
    return false;
  }
  ctx.cases = std::move(cases).value();
  ctx.outputs.assign(ctx.cases.size(), std::nullopt);
  ctx.report.metrics()["cases"] = ctx.cases.size();
  return true;
}

}  // namespace bg::torchscript

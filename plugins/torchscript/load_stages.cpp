// LoadModelStage and LoadParityStage (stages.h).
#include <chrono>
#include <limits>

#include "plugins/sdk/bundle_file.h"
#include "plugins/sdk/safetensors.h"
#include "plugins/torchscript/archive_check.h"
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

std::optional<TorchModel> LoadModelStage(CheckContext& ctx, const std::string& device,
                                         bool primary) {
  const std::string& path = ctx.manifest.model_path;
  const std::string where = primary ? "" : " on " + device;
  auto bytes = sdk::ReadBundleFile(ctx.bundle_dir, path, std::numeric_limits<std::uint64_t>::max());
  if (!bytes.ok()) {
    ctx.report.Add(reason::kModelLoadFailed, "cannot read the model: " + bytes.status().message());
    return std::nullopt;
  }
  if (const std::string problem = ArchiveProblem(*bytes); !problem.empty()) {
    ctx.report.Add(reason::kModelLoadFailed, path + ": " + problem);
    return std::nullopt;
  }
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

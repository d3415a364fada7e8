// PreprocessingStage, TrainingModeStage, ArchitectureStage (stages.h): what the loaded module
// says about itself, before any forward.
#include "plugins/torchscript/stages.h"

namespace bg::torchscript {
namespace {

constexpr const char* kPreprocessingAttribute = "preprocessing_version";
constexpr std::size_t kMaxNamesInSummary = 5;

std::string JoinFirst(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < kMaxNamesInSummary; ++i)
    s += (i ? ", " : "") + names[i];
  if (names.size() > kMaxNamesInSummary) s += ", ...";
  return s;
}

}  // namespace

void PreprocessingStage(CheckContext& ctx, const TorchModel& model) {
  const std::string& declared = ctx.manifest.preprocessing_version;
  auto attr = model.StringAttribute(kPreprocessingAttribute);
  if (!attr.ok()) {
    ctx.report.Add(reason::kPreprocessing, "the model's " + attr.status().message());
    return;
  }
  ctx.report.details()["preprocessing"] = {
      {"manifest", declared}, {"model", attr->has_value() ? sdk::Json(**attr) : sdk::Json()}};
  if (!attr->has_value()) {
    if (ctx.options.require_preprocessing_attribute) {
      ctx.report.Add(reason::kPreprocessing, std::string("the model has no '") +
                                                 kPreprocessingAttribute +
                                                 "' attribute (required by the config)");
    } else {
      ctx.report.Note(std::string("the model has no '") + kPreprocessingAttribute +
                      "' attribute: not compared");
    }
    return;
  }
  if (**attr != declared) {
    ctx.report.Add(reason::kPreprocessing, "the model's preprocessing_version is \"" + **attr +
                                               "\" but the manifest declares \"" + declared + "\"");
    return;
  }
  ctx.passed.push_back("preprocessing " + declared);
}

void TrainingModeStage(CheckContext& ctx, const TorchModel& model) {
  const auto names = model.TrainingModules();
  ctx.report.details()["training_modules"] = names;
  if (names.empty()) {
    ctx.passed.push_back("eval mode");
    return;
  }
  const std::string message =
      std::to_string(names.size()) + " module(s) left in training mode: " + JoinFirst(names);
  if (ctx.options.check_training_mode) {
    ctx.report.Add(reason::kTrainingMode, message, {{"modules", names}});
  } else {
    ctx.report.Note(message + " (check_training_mode = false)");
  }
}

void ArchitectureStage(CheckContext& ctx, const TorchModel& model) {
  if (ctx.manifest.signature.empty()) {
    if (ctx.options.require_signature) {
      ctx.report.Add(reason::kArchitecture,
                     "the manifest has no [[model.signature]] (required by the config)");
    } else {
      ctx.report.Note("no [[model.signature]] in the manifest: architecture not compared");
    }
    return;
  }
  auto tensors = model.Tensors();
  if (!tensors.ok()) {
    ctx.report.Add(reason::kArchitecture,
                   "cannot list the model's parameters: " + tensors.status().message());
    return;
  }
  const ArchitectureDiff diff = CompareSignature(ctx.manifest.signature, *tensors);
  ctx.report.details()["architecture"] = diff.ToJson();
  if (!diff.empty()) {
    ctx.report.Add(reason::kArchitecture,
                   "the model differs from [[model.signature]]: " + diff.Summary());
    return;
  }
  ctx.passed.push_back("signature (" + std::to_string(tensors->size()) + " tensors)");
}

}  // namespace bg::torchscript

// bundlegate-check-torchscript: the TorchScript parity plugin (SPEC.md "Plugins").
//
// Reads one request on stdin, loads the bundle's TorchScript model with LibTorch, runs the
// recorded parity cases and prints one result on stdout (check.h says what it checks;
// options.h what it can be told). --describe reports the LibTorch it links, which the agent's
// lockfile check compares with the bundle's torch pin.
#include "plugins/sdk/plugin_main.h"
#include "plugins/torchscript/check.h"
#include "plugins/torchscript/torch_model.h"

namespace {

bg::sdk::Json RuntimeJson() {
  const auto runtime = bg::torchscript::DescribeTorchRuntime(/*probe_cuda=*/true);
  bg::sdk::Json j = {{"libtorch", runtime.libtorch},
                     {"cuda", runtime.cuda},
                     {"cuda_device_count", runtime.cuda_device_count}};
  if (!runtime.cuda_error.empty()) j["cuda_error"] = runtime.cuda_error;
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  bg::sdk::PluginSpec spec;
  spec.kind = "torchscript";
  spec.version = bg::torchscript::kPluginVersion;
  spec.describe_runtime = RuntimeJson;
  spec.describe_extra = {{"model_formats", bg::sdk::Json::array({"torchscript"})}};
  spec.check = bg::torchscript::RunTorchscriptCheck;
  return bg::sdk::RunPlugin(argc, argv, spec);
}

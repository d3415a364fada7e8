// bundlegate-check-torchscript: the TorchScript parity plugin (SPEC.md "Plugins").
//
// Reads one request on stdin, loads the bundle's TorchScript model with LibTorch, runs the
// recorded parity cases and prints one result on stdout (check.h says what it checks;
// options.h what it can be told). --describe reports the LibTorch it links, which the agent's
// lockfile check compares with the bundle's torch pin.
#include <link.h>

#include <string>

#include "plugins/sdk/plugin_main.h"
#include "plugins/torchscript/check.h"
#include "plugins/torchscript/torch_model.h"

namespace {

// The LibTorch libraries this process has loaded: what its --describe answer depends on besides
// the plugin file itself, so that the agent's describe cache (agent/plugin/describe_cache.h)
// asks again after LibTorch is upgraded in place.
int AddTorchLibrary(dl_phdr_info* info, size_t, void* data) {
  const std::string path = info->dlpi_name ? info->dlpi_name : "";
  const auto slash = path.rfind('/');
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (!path.empty() && path[0] == '/' && (name.rfind("libtorch", 0) == 0 || name.rfind("libc10", 0) == 0)) {
    static_cast<bg::sdk::Json*>(data)->push_back(path);
  }
  return 0;
}

bg::sdk::Json CacheJson() {
  bg::sdk::Json libraries = bg::sdk::Json::array();
  dl_iterate_phdr(AddTorchLibrary, &libraries);
  return {{"depends_on", libraries}};
}

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
  spec.describe_extra = {{"model_formats", bg::sdk::Json::array({"torchscript"})},
                         {"cache", CacheJson()}};
  spec.check = bg::torchscript::RunTorchscriptCheck;
  return bg::sdk::RunPlugin(argc, argv, spec);
}

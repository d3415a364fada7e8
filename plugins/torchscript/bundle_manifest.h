// BundleManifest: the parts of the request's "manifest" (the agent's Manifest::ToJson) that the
// TorchScript check uses, read without the agent's headers.
//
// The agent validated bundle.toml already; this reader still checks every field it uses (type,
// presence) so that a malformed request is a clean plugin-error, never an exception.
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

namespace bg::torchscript {

struct SignatureEntry {
  std::string name;  // state_dict key
  std::string kind;  // "parameter" or "buffer"
  std::vector<std::int64_t> shape;
  std::string dtype;  // torch name, e.g. "float32"
};

struct ToleranceSpec {
  double rtol = 0;
  double atol = 0;
};

struct BundleManifest {
  std::string name;
  std::string version;
  std::string model_path;
  std::vector<SignatureEntry> signature;  // empty: no architecture contract
  bool has_inference = false;             // [inference] present
  std::string device = "cpu";
  std::int64_t threads = 0;  // 0: LibTorch's default
  std::int64_t max_batch = 64;
  std::string preprocessing_version;
  std::string parity_inputs;
  std::string parity_expected;
  std::map<std::string, ToleranceSpec> tolerance;  // [parity.tolerance."<key>"]
};

sdk::Result<BundleManifest> ParseBundleManifest(const sdk::Json& manifest);

}  // namespace bg::torchscript

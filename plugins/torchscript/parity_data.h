// ParityCase: one recorded call of forward, assembled from the bundle's two safetensors files
// (SPEC.md "Parity data"): input argument i of case c is tensor "c.i" in the inputs file; output
// <key> is "c.<key>" in the expected file (a tensor output is c.0, a tuple's or list's items
// c.0, c.1, ..., a dict's items c.<dict key>).
//
// BuildCases is strict: case names match [A-Za-z0-9_-]+; input indices are decimal without
// leading zeros and run 0..n-1 without gaps; every case has inputs and at least one expected
// output; no stray tensor. Errors name the tensor.
//
// Thread safety: values and pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "plugins/sdk/safetensors.h"
#include "plugins/sdk/status.h"
#include "plugins/sdk/tensor.h"

namespace bg::torchscript {

struct NamedOutput {
  std::string key;
  sdk::HostTensor tensor;
};
using Outputs = std::vector<NamedOutput>;

struct ParityCase {
  std::string name;
  std::vector<sdk::HostTensor> inputs;  // by argument position
  Outputs expected;                     // sorted by key
};

// Cases sorted by name.
sdk::Result<std::vector<ParityCase>> BuildCases(const sdk::SafetensorsFile& inputs,
                                                const sdk::SafetensorsFile& expected);

bool IsValidCaseName(const std::string& name);

// The output with `key`; nullptr when absent.
const NamedOutput* FindOutput(const Outputs& outputs, const std::string& key);

}  // namespace bg::torchscript

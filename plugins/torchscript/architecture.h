// The architecture contract: the manifest's [[model.signature]] (every parameter and buffer the
// producer's model had: name, kind, shape, dtype) against what the loaded module holds.
//
// Differences are listed by kind: missing (declared, not in the model), extra (in the model,
// not declared), shape, dtype and kind (parameter vs buffer). dtype names are compared after
// mapping torch's aliases ("float" is "float32", "long" is "int64").
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plugins/sdk/json.h"
#include "plugins/torchscript/bundle_manifest.h"

namespace bg::torchscript {

// A parameter or buffer of the loaded module (named_parameters / named_buffers, recursive).
struct ModuleTensor {
  std::string name;
  std::string kind;  // "parameter" or "buffer"
  std::vector<std::int64_t> shape;
  std::string dtype;  // torch name
};

struct ArchitectureDiff {
  std::vector<std::string> missing;
  std::vector<std::string> extra;
  std::vector<std::string> shape;  // "fc.weight: [10, 512], declared [1000, 512]"
  std::vector<std::string> dtype;
  std::vector<std::string> kind;

  bool empty() const;
  std::size_t count() const;
  sdk::Json ToJson() const;
  // "2 missing (a, b); 1 shape (fc.weight: ...)", the first few of each.
  std::string Summary() const;
};

ArchitectureDiff CompareSignature(const std::vector<SignatureEntry>& declared,
                                  const std::vector<ModuleTensor>& actual);

// torch's canonical name for a dtype name or alias ("float" -> "float32"); unknown names as given.
std::string CanonicalDtypeName(const std::string& name);

}  // namespace bg::torchscript

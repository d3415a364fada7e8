// Writes the safetensors format: what the reader (safetensors.h) accepts, and what the
// reference implementation writes (tensors packed back to back in name order, the header padded
// with spaces to a multiple of 8 bytes so that the data area is aligned).
//
// Plugins use it to hand tensors to other tools; tests use it to make valid files (and, by
// editing the bytes, malformed ones).
//
// Thread safety: pure function.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plugins/sdk/status.h"
#include "plugins/sdk/tensor.h"

namespace bg::sdk {

struct NamedTensor {
  std::string name;
  HostTensor tensor;
};

// The file's bytes. Fails on an invalid or duplicate name, or a tensor whose data size does not
// match its shape and dtype.
Result<std::string> SerializeSafetensors(const std::vector<NamedTensor>& tensors,
                                         const std::map<std::string, std::string>& metadata = {});

}  // namespace bg::sdk

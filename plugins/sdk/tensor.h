// HostTensor: a dense tensor in host memory, in the byte layout of safetensors (row-major,
// little-endian), with no dependency on LibTorch.
//
// It is what the safetensors reader hands out and the writer takes, and what the TorchScript
// plugin compares, so that the comparison code never needs LibTorch's headers.
//
// Thread safety: a value.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plugins/sdk/dtype.h"

namespace bg::sdk {

struct HostTensor {
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;  // empty: a scalar (0-dim) tensor
  std::string data;                 // Numel() * DtypeSize(dtype) bytes

  // The product of the shape (1 for a scalar). The shape is trusted: the reader validated it.
  std::int64_t Numel() const;
  // True when data holds exactly Numel() elements.
  bool Consistent() const;
};

// "[1, 3, 224, 224]"
std::string ShapeString(const std::vector<std::int64_t>& shape);

}  // namespace bg::sdk

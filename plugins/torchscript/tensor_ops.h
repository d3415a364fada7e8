// Small operations on HostTensors that the check needs without LibTorch: reading elements as
// numbers, slicing rows off the leading dimension, and making the inputs of the edge cases.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "plugins/sdk/tensor.h"

namespace bg::torchscript {

// Element i (flat, row-major) as a double: exact for floats and for integers up to 2^53.
double ElementAsDouble(const sdk::HostTensor& t, std::int64_t i);
// Element i of an integer or bool tensor, exactly.
std::int64_t ElementAsInt(const sdk::HostTensor& t, std::int64_t i);
// IEEE half and bfloat16 bit patterns as floats.
float HalfToFloat(std::uint16_t bits);
float BFloat16ToFloat(std::uint16_t bits);

// The leading dimension that every tensor shares (each of rank >= 1); nullopt when there is
// none (no tensors, a scalar among them, or sizes that differ).
std::optional<std::int64_t> SharedLeadingDim(const std::vector<sdk::HostTensor>& tensors);
// Rows [begin, begin + count) of the leading dimension; the rank is kept. Requires rank >= 1
// and the rows to exist.
sdk::HostTensor SliceRows(const sdk::HostTensor& t, std::int64_t begin, std::int64_t count);
// A zero-filled tensor of `shape` in the "wrong" dtype for `dtype`: int64 for floating point,
// float32 for integers and bool.
sdk::HostTensor WrongDtypeZeros(const sdk::HostTensor& like);
// The largest finite |element| of a floating-point tensor (0 for an empty one or another dtype).
double MaxAbsFinite(const sdk::HostTensor& t);
// True when both have the same dtype, shape and bytes.
bool BitwiseEqual(const sdk::HostTensor& a, const sdk::HostTensor& b);

}  // namespace bg::torchscript

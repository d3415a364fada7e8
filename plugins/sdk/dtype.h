// Dtype: the element types a safetensors file may hold here, with their sizes and names.
//
// The table is the subset of the safetensors format that PyTorch models exchange in practice:
// F16 BF16 F32 F64 I8 I16 I32 I64 U8 BOOL. Other safetensors dtypes (U16, U32, U64, F8_*) are
// refused by the reader as unsupported, so every tensor here has a LibTorch counterpart.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace bg::sdk {

enum class Dtype { kF16, kBF16, kF32, kF64, kI8, kI16, kI32, kI64, kU8, kBool };

// Bytes per element.
std::size_t DtypeSize(Dtype dtype);
// The safetensors spelling ("F32").
std::string_view SafetensorsName(Dtype dtype);
std::optional<Dtype> ParseSafetensorsName(std::string_view name);
// torch's spelling without "torch." ("float32"), as in a manifest signature.
std::string_view TorchName(Dtype dtype);
// Accepts torch's names and aliases ("float32", "float", "long", ...).
std::optional<Dtype> ParseTorchName(std::string_view name);
// Floating point (F16, BF16, F32, F64): compared within tolerance; the others exactly.
bool IsFloating(Dtype dtype);

}  // namespace bg::sdk

#include "plugins/sdk/dtype.h"

#include <array>

namespace bg::sdk {
namespace {

struct DtypeInfo {
  Dtype dtype;
  std::size_t size;
  std::string_view safetensors;
  std::string_view torch;
  bool floating;
};

constexpr std::array<DtypeInfo, 10> kTable = {{
    {Dtype::kF16, 2, "F16", "float16", true},
    {Dtype::kBF16, 2, "BF16", "bfloat16", true},
    {Dtype::kF32, 4, "F32", "float32", true},
    {Dtype::kF64, 8, "F64", "float64", true},
    {Dtype::kI8, 1, "I8", "int8", false},
    {Dtype::kI16, 2, "I16", "int16", false},
    {Dtype::kI32, 4, "I32", "int32", false},
    {Dtype::kI64, 8, "I64", "int64", false},
    {Dtype::kU8, 1, "U8", "uint8", false},
    {Dtype::kBool, 1, "BOOL", "bool", false},
}};

const DtypeInfo& Info(Dtype dtype) { return kTable[static_cast<std::size_t>(dtype)]; }

}  // namespace

std::size_t DtypeSize(Dtype dtype) { return Info(dtype).size; }
std::string_view SafetensorsName(Dtype dtype) { return Info(dtype).safetensors; }
std::string_view TorchName(Dtype dtype) { return Info(dtype).torch; }
bool IsFloating(Dtype dtype) { return Info(dtype).floating; }

std::optional<Dtype> ParseSafetensorsName(std::string_view name) {
  for (const auto& info : kTable) {
    if (info.safetensors == name) return info.dtype;
  }
  return std::nullopt;
}

std::optional<Dtype> ParseTorchName(std::string_view name) {
  for (const auto& info : kTable) {
    if (info.torch == name) return info.dtype;
  }
  static constexpr std::array<std::pair<std::string_view, Dtype>, 6> kAliases = {{
      {"half", Dtype::kF16},
      {"float", Dtype::kF32},
      {"double", Dtype::kF64},
      {"short", Dtype::kI16},
      {"int", Dtype::kI32},
      {"long", Dtype::kI64},
  }};
  for (const auto& [alias, dtype] : kAliases) {
    if (alias == name) return dtype;
  }
  return std::nullopt;
}

}  // namespace bg::sdk

#include "plugins/modelscan/pickle_allowlist.h"

#include <algorithm>
#include <array>
#include <utility>

namespace bg::modelscan {
namespace {

using Name = std::pair<std::string_view, std::string_view>;

constexpr std::array<Name, 14> kTorchScript = {{
    {"collections", "OrderedDict"},
    {"builtins", "complex"},
    {"torch", "device"},
    {"torch._utils", "_rebuild_tensor_v2"},
    {"torch._utils", "_rebuild_qtensor"},
    {"torch._utils", "_rebuild_sparse_tensor"},
    {"torch._tensor", "_rebuild_from_type_v2"},
    {"torch.jit._pickle", "build_intlist"},
    {"torch.jit._pickle", "build_tensorlist"},
    {"torch.jit._pickle", "build_doublelist"},
    {"torch.jit._pickle", "build_boollist"},
    {"torch.jit._pickle", "build_tensor_from_id"},
    {"torch.jit._pickle", "restore_type_tag"},
    {"torch", "per_tensor_affine"},
}};

constexpr std::array<std::string_view, 4> kQSchemes = {
    "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric",
    "per_channel_affine_float_qparams"};

constexpr std::array<Name, 2> kCheckpointExtra = {{
    {"torch._utils", "_rebuild_parameter"},
    {"torch._utils", "_rebuild_parameter_with_state"},
}};

// LibTorch's AT_FORALL_SCALAR_TYPES_WITH_COMPLEX_AND_QINTS, as torch.<Name>Storage.
constexpr std::array<std::pair<std::string_view, std::size_t>, 18> kStorages = {{
    {"ByteStorage", 1},        {"CharStorage", 1},     {"ShortStorage", 2},
    {"IntStorage", 4},         {"LongStorage", 8},     {"HalfStorage", 2},
    {"FloatStorage", 4},       {"DoubleStorage", 8},   {"ComplexHalfStorage", 4},
    {"ComplexFloatStorage", 8}, {"ComplexDoubleStorage", 16}, {"BoolStorage", 1},
    {"QInt8Storage", 1},       {"QUInt8Storage", 1},   {"QInt32Storage", 4},
    {"BFloat16Storage", 2},    {"QUInt4x2Storage", 1}, {"QUInt2x4Storage", 1},
}};

bool IsIdentifier(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok) return false;
  }
  return true;
}

template <std::size_t N>
bool In(const std::array<Name, N>& names, std::string_view module, std::string_view name) {
  for (const auto& [m, n] : names) {
    if (m == module && n == name) return true;
  }
  return false;
}

}  // namespace

bool IsTorchScriptClass(std::string_view module, std::string_view name) {
  constexpr std::string_view kRoot = "__torch__";
  if (!IsIdentifier(name) || module.substr(0, kRoot.size()) != kRoot) return false;
  std::string_view rest = module.substr(kRoot.size());
  while (!rest.empty()) {
    if (rest.front() != '.') return false;
    rest.remove_prefix(1);
    const std::size_t dot = std::min(rest.find('.'), rest.size());
    if (!IsIdentifier(rest.substr(0, dot))) return false;
    rest.remove_prefix(dot);
  }
  return true;
}

const PickleAllowlist& PickleAllowlist::TorchScript() {
  static const PickleAllowlist list(false);
  return list;
}

const PickleAllowlist& PickleAllowlist::Checkpoint() {
  static const PickleAllowlist list(true);
  return list;
}

std::size_t PickleAllowlist::StorageItemSize(std::string_view module, std::string_view name) {
  if (module != "torch") return 0;
  for (const auto& [n, size] : kStorages) {
    if (n == name) return size;
  }
  return 0;
}

bool PickleAllowlist::Allowed(std::string_view module, std::string_view name) const {
  if (In(kTorchScript, module, name) || StorageItemSize(module, name) != 0) return true;
  if (module == "torch") {
    for (const auto q : kQSchemes) {
      if (q == name) return true;
    }
  }
  if (checkpoint_ && In(kCheckpointExtra, module, name)) return true;
  return IsTorchScriptClass(module, name);
}

}  // namespace bg::modelscan

#include "plugins/sdk/tensor.h"

namespace bg::sdk {

std::int64_t HostTensor::Numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool HostTensor::Consistent() const {
  for (auto d : shape) {
    if (d < 0) return false;
  }
  return data.size() == static_cast<std::uint64_t>(Numel()) * DtypeSize(dtype);
}

std::string ShapeString(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace bg::sdk

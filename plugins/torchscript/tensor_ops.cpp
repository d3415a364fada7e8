#include "plugins/torchscript/tensor_ops.h"

#include <cmath>
#include <cstring>

namespace bg::torchscript {
namespace {

template <typename T>
T Load(const sdk::HostTensor& t, std::int64_t i) {
  T v;
  std::memcpy(&v, t.data.data() + static_cast<std::size_t>(i) * sizeof(T), sizeof(T));
  return v;
}

float FloatFromBits(std::uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

}  // namespace

float HalfToFloat(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float f = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -f : f;
  }
  if (exp == 31) return FloatFromBits(sign | 0x7f800000u | (mant << 13));  // inf, NaN
  return FloatFromBits(sign | ((exp + 112) << 23) | (mant << 13));
}

float BFloat16ToFloat(std::uint16_t bits) {
  return FloatFromBits(static_cast<std::uint32_t>(bits) << 16);
}

double ElementAsDouble(const sdk::HostTensor& t, std::int64_t i) {
  switch (t.dtype) {
    case sdk::Dtype::kF16:
      return HalfToFloat(Load<std::uint16_t>(t, i));
    case sdk::Dtype::kBF16:
      return BFloat16ToFloat(Load<std::uint16_t>(t, i));
    case sdk::Dtype::kF32:
      return Load<float>(t, i);
    case sdk::Dtype::kF64:
      return Load<double>(t, i);
    default:
      return static_cast<double>(ElementAsInt(t, i));
  }
}

std::int64_t ElementAsInt(const sdk::HostTensor& t, std::int64_t i) {
  switch (t.dtype) {
    case sdk::Dtype::kI8:
      return Load<std::int8_t>(t, i);
    case sdk::Dtype::kI16:
      return Load<std::int16_t>(t, i);
    case sdk::Dtype::kI32:
      return Load<std::int32_t>(t, i);
    case sdk::Dtype::kI64:
      return Load<std::int64_t>(t, i);
    case sdk::Dtype::kU8:
    case sdk::Dtype::kBool:
      return Load<std::uint8_t>(t, i);
    default:
      return static_cast<std::int64_t>(ElementAsDouble(t, i));
  }
}

std::optional<std::int64_t> SharedLeadingDim(const std::vector<sdk::HostTensor>& tensors) {
  std::optional<std::int64_t> dim;
  for (const auto& t : tensors) {
    if (t.shape.empty() || (dim && *dim != t.shape[0])) return std::nullopt;
    dim = t.shape[0];
  }
  return dim;
}

sdk::HostTensor SliceRows(const sdk::HostTensor& t, std::int64_t begin, std::int64_t count) {
  sdk::HostTensor out{t.dtype, t.shape, {}};
  out.shape[0] = count;
  const std::size_t row_bytes =
      t.shape[0] == 0 ? 0 : t.data.size() / static_cast<std::size_t>(t.shape[0]);
  out.data = t.data.substr(static_cast<std::size_t>(begin) * row_bytes,
                           static_cast<std::size_t>(count) * row_bytes);
  return out;
}

sdk::HostTensor WrongDtypeZeros(const sdk::HostTensor& like) {
  sdk::HostTensor out{
      sdk::IsFloating(like.dtype) ? sdk::Dtype::kI64 : sdk::Dtype::kF32, like.shape, {}};
  out.data.assign(static_cast<std::size_t>(out.Numel()) * sdk::DtypeSize(out.dtype), '\0');
  return out;
}

bool BitwiseEqual(const sdk::HostTensor& a, const sdk::HostTensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape && a.data == b.data;
}

double MaxAbsFinite(const sdk::HostTensor& t) {
  if (!sdk::IsFloating(t.dtype)) return 0;
  double most = 0;
  const std::int64_t n = t.Numel();
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = std::fabs(ElementAsDouble(t, i));
    if (std::isfinite(v) && v > most) most = v;
  }
  return most;
}

}  // namespace bg::torchscript

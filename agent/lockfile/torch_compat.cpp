#include "agent/lockfile/torch_compat.h"

#include <array>
#include <utility>

namespace bg {
namespace {

constexpr std::array<std::pair<TorchCompat, std::string_view>, 4> kModes{{
    {TorchCompat::kSameMinor, "same-minor"},
    {TorchCompat::kSameMajor, "same-major"},
    {TorchCompat::kExact, "exact"},
    {TorchCompat::kAny, "any"},
}};

bool SameRelease(const Pep440Version& a, const Pep440Version& b, std::size_t components) {
  if (a.epoch() != b.epoch()) return false;
  for (std::size_t i = 0; i < components; ++i) {
    if (a.ReleaseAt(i) != b.ReleaseAt(i)) return false;
  }
  return true;
}

}  // namespace

std::optional<TorchCompat> ParseTorchCompat(std::string_view text) {
  for (const auto& [mode, name] : kModes) {
    if (name == text) return mode;
  }
  return std::nullopt;
}

std::string_view TorchCompatName(TorchCompat mode) {
  for (const auto& [m, name] : kModes) {
    if (m == mode) return name;
  }
  return "unknown";
}

bool TorchCompatible(const Pep440Version& locked, const Pep440Version& runtime, TorchCompat mode) {
  switch (mode) {
    case TorchCompat::kSameMinor:
      return SameRelease(locked, runtime, 2);
    case TorchCompat::kSameMajor:
      return SameRelease(locked, runtime, 1);
    case TorchCompat::kExact:
      return locked.Public() == runtime.Public();
    case TorchCompat::kAny:
      return true;
  }
  return false;
}

}  // namespace bg

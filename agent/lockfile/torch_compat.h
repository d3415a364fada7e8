// torch_compat: how closely the lockfile's torch must match the serving runtime's LibTorch.
//
//   same-minor  major.minor equal (2.5.1+cu121 with LibTorch 2.5.0): the default. TorchScript
//               archives load across patch releases of one minor version, while operator
//               schemas and serialization change between minors.
//   same-major  major equal.
//   exact       the public versions equal (2.5.1 == 2.5.1.0; pre/post/dev releases count).
//   any         not checked.
// Local labels (+cu121, +cpu) are ignored in every mode: they name the build flavour, which the
// LibTorch version string does not carry.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string_view>

#include "agent/lockfile/pep440_version.h"

namespace bg {

enum class TorchCompat { kSameMinor, kSameMajor, kExact, kAny };

std::optional<TorchCompat> ParseTorchCompat(std::string_view text);
std::string_view TorchCompatName(TorchCompat mode);

// Whether a lockfile's torch `locked` may serve on LibTorch `runtime` under `mode`.
bool TorchCompatible(const Pep440Version& locked, const Pep440Version& runtime, TorchCompat mode);

}  // namespace bg

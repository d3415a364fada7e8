// ApplyGitDelta: rebuilds an object from its base and a git pack delta (gitformat-pack(5),
// "Deltified representation"): two sizes, then copy-from-base and insert-literal instructions.
//
// Why here: the history walk reads commits straight from pack files (pack_file.h), and git
// stores some commits as deltas against others. Every size and offset of the delta is checked
// against the base and the declared result before use: a corrupt or hostile delta fails, never
// reads or writes out of bounds.
//
// Thread safety: a pure function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace bg {

// The object `delta` describes relative to `base`. Fails when the delta is malformed: a base
// size other than base.size(), a result larger than `max_result` or other than declared, a copy
// out of the base's bounds, an instruction cut short, the reserved instruction 0.
Result<std::string> ApplyGitDelta(std::string_view base, std::string_view delta,
                                  std::size_t max_result);

// The result size a delta declares (its second header field), without applying it.
Result<std::uint64_t> GitDeltaResultSize(std::string_view delta);

}  // namespace bg

// UTF-8 well-formedness, shared by the audit log (a torn tail shown only when printable) and the
// byte-exact names of the journal and audit records (a hex copy beside text that is not UTF-8).
// Strict: no overlong forms, surrogates or code points past U+10FFFF.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace bg {

// The length of the sequence that `lead` starts (1 to 4), or 0 when no sequence starts so.
std::size_t Utf8SequenceLength(unsigned char lead);

// Whether the `len` bytes of `s` from `i` (i + len <= s.size()) are one well-formed sequence:
// continuation bytes and the overlong, surrogate and range rules.
bool IsValidUtf8Sequence(std::string_view s, std::size_t i, std::size_t len);

// Whether `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace bg

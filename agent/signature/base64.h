// Base64 (RFC 4648) for the signature formats: SSH armor and key lines use the standard alphabet
// with padding; Sigstore bundles are protobuf JSON, whose bytes fields a reader must accept in
// the standard or the URL-safe alphabet, padded or not; SSH fingerprints drop the padding.
//
// Decoding is strict: no whitespace (callers strip line breaks they allow), no character outside
// the alphabet, padding only at the end, and unused trailing bits zero, so that one byte string
// has one accepted encoding.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace bg {

enum class Base64Flavor {
  kStandardPadded,  // '+', '/', '=' padding required (SSH)
  kAnyAlphabet,     // '+/' or '-_', padding optional (protobuf JSON bytes)
};

std::string Base64Encode(std::string_view bytes, bool pad = true);
std::optional<std::string> Base64Decode(std::string_view text, Base64Flavor flavor);

}  // namespace bg

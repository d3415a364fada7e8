// Lower-case hexadecimal encoding, and the hex-string checks that manifests and the audit log need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bg {

std::string ToHex(const std::uint8_t* data, std::size_t size);
// The bytes of an even-length [0-9a-fA-F] string; nullopt otherwise.
std::optional<std::string> FromHex(std::string_view hex);
// True when `s` is exactly `length` characters of [0-9a-f] (lower case only).
bool IsLowerHex(std::string_view s, std::size_t length);

}  // namespace bg

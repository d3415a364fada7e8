// Raw deflate decompression (zlib, windowBits -15) of one ZIP entry, bounded: the output is
// exactly `size` bytes or it is an error, and so is input left over after the deflate stream
// ends (bytes that only a second reader would see).
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bg::modelscan {

// Inflates `compressed` into *out (resized to `size`). False with *why set when the stream is
// invalid, ends before `size` bytes, would produce more, or does not use all of `compressed`.
bool InflateExactly(std::string_view compressed, std::uint64_t size, std::string* out,
                    std::string* why);

// CRC-32 (the ZIP polynomial), through zlib.
std::uint32_t Crc32(std::string_view bytes);

}  // namespace bg::modelscan

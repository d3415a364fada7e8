// The adapter to zlib: the only file that includes it.
#include "plugins/modelscan/inflate.h"

#include <zlib.h>

#include <algorithm>

namespace bg::modelscan {
namespace {

constexpr std::size_t kChunk = 1u << 30;  // zlib counts in uInt

}  // namespace

bool InflateExactly(std::string_view compressed, std::uint64_t size, std::string* out,
                    std::string* why) {
  out->assign(static_cast<std::size_t>(size), '\0');
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
    *why = "zlib could not start";
    return false;
  }
  std::size_t in_done = 0, out_done = 0;
  char spare = 0;  // one byte past the end: a stream that writes it is longer than declared
  int rc;
  for (;;) {
    const std::size_t out_left = out->size() - out_done;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + in_done));
    z.avail_in = static_cast<uInt>(std::min(compressed.size() - in_done, kChunk));
    z.next_out = reinterpret_cast<Bytef*>(out_left > 0 ? out->data() + out_done : &spare);
    z.avail_out = static_cast<uInt>(out_left > 0 ? std::min(out_left, kChunk) : 1);
    const uInt in_before = z.avail_in, out_before = z.avail_out;
    rc = inflate(&z, Z_NO_FLUSH);  // Z_OK always means progress; Z_BUF_ERROR means none
    in_done += in_before - z.avail_in;
    const std::size_t produced = out_before - z.avail_out;
    if (out_left == 0 && produced > 0) {
      inflateEnd(&z);
      *why = "inflates to more than its declared " + std::to_string(size) + " bytes";
      return false;
    }
    out_done += produced;
    if (rc != Z_OK) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    *why = rc == Z_BUF_ERROR ? "ends before its deflate stream does (truncated)"
                             : "is not a valid deflate stream";
    return false;
  }
  if (out_done != out->size()) {
    *why = "inflates to " + std::to_string(out_done) + " bytes, not its declared " +
           std::to_string(size);
    return false;
  }
  if (in_done != compressed.size()) {
    *why = std::to_string(compressed.size() - in_done) +
           " bytes follow the end of its deflate stream";
    return false;
  }
  return true;
}

std::uint32_t Crc32(std::string_view bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), kChunk);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(crc);
}

}  // namespace bg::modelscan

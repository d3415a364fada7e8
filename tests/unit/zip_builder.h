// ZipBuilder: writes small ZIP archives byte by byte for the scanner's tests, right or wrong on
// purpose (each knob breaks one rule of plugins/modelscan/zip_archive.h).
//
// Thread safety: a value; one thread.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "plugins/modelscan/inflate.h"

namespace bg::test {

struct ZipItem {
  std::string name;
  std::string data;
  bool deflate = false;
  std::string local_name;  // when set, the local header says this instead of `name`
  std::uint32_t crc_xor = 0;         // flips bits of the recorded CRC
  std::int64_t declared_size = -1;   // when >= 0, the uncompressed size both headers declare
  std::uint16_t flags = 0;
  std::uint16_t method = 0xffff;     // when set, overrides the method in both headers
  std::string gap_after;             // unaccounted bytes after the entry's data
};

inline void Put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

inline std::string RawDeflate(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct ZipBuilder {
  std::vector<ZipItem> items;
  std::string prefix;    // bytes before the first entry
  std::string trailer;   // bytes after the end record
  std::string comment;   // the archive comment
  bool zip64 = false;    // write the zip64 end record and locator, as PyTorch does

  ZipBuilder& Add(std::string name, std::string data, bool deflate = false) {
    ZipItem item;
    item.name = std::move(name);
    item.data = std::move(data);
    item.deflate = deflate;
    items.push_back(std::move(item));
    return *this;
  }

  std::string Build() const {
    std::string out = prefix, central;
    for (const auto& it : items) {
      const std::string stored = it.deflate ? RawDeflate(it.data) : it.data;
      const std::uint16_t method = it.method != 0xffff ? it.method : (it.deflate ? 8 : 0);
      const std::uint32_t crc = modelscan::Crc32(it.data) ^ it.crc_xor;
      const std::uint64_t size = it.declared_size >= 0 ? static_cast<std::uint64_t>(it.declared_size)
                                                       : it.data.size();
      const std::uint64_t offset = out.size();
      const std::string& local_name = it.local_name.empty() ? it.name : it.local_name;
      Put(out, 0x04034b50, 4);
      Put(out, 20, 2);
      Put(out, it.flags, 2);
      Put(out, method, 2);
      Put(out, 0, 4);  // time, date
      Put(out, crc, 4);
      Put(out, stored.size(), 4);
      Put(out, size, 4);
      Put(out, local_name.size(), 2);
      Put(out, 0, 2);
      out += local_name + stored + it.gap_after;
      Put(central, 0x02014b50, 4);
      Put(central, 20, 2);
      Put(central, 20, 2);
      Put(central, it.flags, 2);
      Put(central, method, 2);
      Put(central, 0, 4);
      Put(central, crc, 4);
      Put(central, stored.size(), 4);
      Put(central, size, 4);
      Put(central, it.name.size(), 2);
      Put(central, 0, 2);  // extra
      Put(central, 0, 2);  // comment
      Put(central, 0, 2);  // disk
      Put(central, 0, 2);  // internal attributes
      Put(central, 0, 4);  // external attributes
      Put(central, offset, 4);
      central += it.name;
    }
    const std::uint64_t cd_offset = out.size();
    out += central;
    if (zip64) {
      const std::uint64_t record = out.size();
      Put(out, 0x06064b50, 4);
      Put(out, 44, 8);
      Put(out, 45, 2);
      Put(out, 45, 2);
      Put(out, 0, 4);
      Put(out, 0, 4);
      Put(out, items.size(), 8);
      Put(out, items.size(), 8);
      Put(out, central.size(), 8);
      Put(out, cd_offset, 8);
      Put(out, 0x07064b50, 4);
      Put(out, 0, 4);
      Put(out, record, 8);
      Put(out, 1, 4);
    }
    Put(out, 0x06054b50, 4);
    Put(out, 0, 2);
    Put(out, 0, 2);
    Put(out, items.size(), 2);
    Put(out, items.size(), 2);
    Put(out, central.size(), 4);
    Put(out, cd_offset, 4);
    Put(out, comment.size(), 2);
    return out + comment + trailer;
  }
};

}  // namespace bg::test

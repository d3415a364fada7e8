// ZipArchive: a strict reader of the ZIP container that torch.jit.save and torch.save write,
// for a static scan before anything else reads the file.
//
// LibTorch's reader (miniz) is lenient the way ZIP readers are: it trusts the central
// directory, looks names up case-insensitively, and never looks at the bytes between entries.
// That leniency is what polyglots, hidden payloads and zip bombs live in, so this reader accepts
// only an archive in which every byte is accounted for:
//   - one end-of-central-directory record, ending the file exactly (no comment, nothing after
//     it), with the zip64 record and locator that PyTorch always writes (or none), their
//     fields consistent with each other, one disk;
//   - a central directory that ends exactly where those records begin, holding exactly the
//     announced number of entries, no entry comments, well-formed extra fields;
//   - entries laid end to end from offset 0 (no bytes before the first local header, none
//     between entries, none between the last entry and the central directory), each local
//     header agreeing with its central record (name, flags, method, sizes and CRC, or a data
//     descriptor that does);
//   - names: 1 to max_name_bytes bytes of printable UTF-8, relative, '/'-separated, no empty,
//     "." or ".." component, no backslash, no ':' in the first component, unique even when
//     compared without ASCII case (miniz finds "Data.pkl" when asked for "data.pkl");
//   - methods stored (0) or deflate (8) only; no encryption; stored entries with equal sizes;
//     inflated sizes within max_inflated_entry and max_inflated_total, and deflated entries
//     above 1 MiB within max_ratio of their compressed size (zip bombs).
// Read() then inflates an entry (zlib, raw deflate) to exactly its declared size, refusing
// trailing or missing bytes, and checks its CRC-32.
//
// A problem is a ZipProblem: kNotZip (not a ZIP at all, or cut short: a broken file, which the
// plugin reports as model-load-failed) or kMalformed (a ZIP that is not what it claims: a
// hostile or forged archive, unsafe-model).
//
// Thread safety: an open ZipArchive is immutable; Read() may be called concurrently. The bytes
// it was opened on must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bg::modelscan {

struct ZipLimits {
  std::size_t max_entries = 200000;
  std::size_t max_name_bytes = 1024;
  std::uint64_t max_inflated_entry = 256ull << 20;
  std::uint64_t max_inflated_total = 1ull << 30;
  std::uint64_t max_ratio = 200;
};

struct ZipEntry {
  std::string name;
  std::uint16_t flags = 0;
  std::uint16_t method = 0;  // 0 stored, 8 deflate
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;           // uncompressed
  std::uint64_t header_offset = 0;  // the local header
  std::uint64_t data_offset = 0;    // the (compressed) data
};

struct ZipProblem {
  enum Kind { kNotZip, kMalformed };
  Kind kind = kMalformed;
  std::string message;
};

class ZipArchive {
 public:
  // Validates the whole container (not the entries' contents: see Read). nullopt with
  // *problem set when `bytes` is not such an archive.
  static std::optional<ZipArchive> Open(std::string_view bytes, const ZipLimits& limits,
                                        ZipProblem* problem);

  // In the order of their local headers, which is the file's order.
  const std::vector<ZipEntry>& entries() const { return entries_; }
  std::uint64_t inflated_total() const { return inflated_total_; }

  // The entry's content: a view into the archive for a stored entry, or the inflated bytes in
  // *storage (which the view then points into). False with *why set when the data does not
  // inflate to exactly the declared size or its CRC-32 differs.
  bool Read(const ZipEntry& entry, std::string* storage, std::string_view* content,
            std::string* why) const;

 private:
  explicit ZipArchive(std::string_view bytes) : bytes_(bytes) {}
  std::string_view bytes_;
  std::vector<ZipEntry> entries_;
  std::uint64_t inflated_total_ = 0;
  friend class ZipParser;
};

// Why `name` cannot be an entry name by the rules above; "" when it can.
std::string ZipNameProblem(std::string_view name, std::size_t max_bytes);

// "data.pkl" -> "data.pkl"; control and non-ASCII bytes as \xNN, for messages.
std::string Printable(std::string_view bytes, std::size_t max_chars = 200);

}  // namespace bg::modelscan

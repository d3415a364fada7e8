#include "plugins/modelscan/zip_archive.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "plugins/modelscan/inflate.h"

namespace bg::modelscan {
namespace {

constexpr std::uint32_t kLocalSig = 0x04034b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint32_t kDescriptorSig = 0x08074b50;
constexpr std::size_t kEndSize = 22, kZip64EndSize = 56, kLocatorSize = 20;
constexpr std::size_t kCentralSize = 46, kLocalSize = 30;
constexpr std::uint16_t kZip64ExtraId = 0x0001;
// Deflate option bits (1, 2), data descriptor (3), UTF-8 names (11). Everything else (0 and 6:
// encryption, 13: masked headers, 5: patched data...) is refused.
constexpr std::uint16_t kAllowedFlags = 0x0002 | 0x0004 | 0x0008 | 0x0800;
constexpr std::uint16_t kDescriptorFlag = 0x0008;
constexpr std::uint64_t kRatioFloor = 1u << 20;

std::uint64_t Le(std::string_view b, std::size_t pos, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t(static_cast<unsigned char>(b[pos + i])) << (8 * i);
  return v;
}

bool ValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0x7f >> n);
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) return false;  // controls
    i += n;
  }
  return true;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A zip64 extended-information field, read in the order the format fixes.
struct Zip64Fields {
  std::string_view data;
  std::size_t pos = 0;
  bool Take(std::uint64_t* field) {
    if (pos + 8 > data.size()) return false;
    *field = Le(data, pos, 8);
    pos += 8;
    return true;
  }
};

}  // namespace

std::string Printable(std::string_view bytes, std::size_t max_chars) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += ch;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
    if (out.size() >= max_chars) return out + "...";
  }
  return out;
}

std::string ZipNameProblem(std::string_view name, std::size_t max_bytes) {
  if (name.empty()) return "an empty name";
  if (name.size() > max_bytes) return "a name longer than " + std::to_string(max_bytes) + " bytes";
  if (name.find('\0') != std::string_view::npos) return "a NUL byte in the name";
  if (name.find('\\') != std::string_view::npos) return "a backslash in the name";
  if (!ValidUtf8(name)) return "a name that is not printable UTF-8";
  if (name.front() == '/') return "an absolute name";
  std::size_t start = 0;
  bool first = true;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return "an empty, \".\" or \"..\" component";
    if (first && part.find(':') != std::string_view::npos) return "a drive or scheme prefix";
    first = false;
    start = end + 1;
  }
  return "";
}

// One pass over the container; every method checks one record and says what is wrong with it.
class ZipParser {
 public:
  ZipParser(std::string_view bytes, const ZipLimits& limits, ZipProblem* problem)
      : b_(bytes), limits_(limits), problem_(problem) {}

  std::optional<ZipArchive> Run() {
    if (b_.size() >= 4 && Le(b_, 0, 4) == kEndSig) return NotZip("an empty ZIP archive (no entries)");
    if (b_.size() < 4 || Le(b_, 0, 4) != kLocalSig) {
      if (FindEnd(false) != npos) return Malformed(LeadingBytesMessage());
      return NotZip("not a ZIP archive (torch.jit.save writes one)");
    }
    ZipArchive archive(b_);
    if (!ReadEnd() || !ReadCentral(archive) || !ReadLocals(archive)) return std::nullopt;
    return archive;
  }

 private:
  static constexpr std::size_t npos = std::string_view::npos;

  std::nullopt_t NotZip(std::string message) {
    *problem_ = {ZipProblem::kNotZip, std::move(message)};
    return std::nullopt;
  }
  std::nullopt_t Malformed(std::string message) {
    *problem_ = {ZipProblem::kMalformed, std::move(message)};
    return std::nullopt;
  }
  bool Fail(std::string message) {
    Malformed(std::move(message));
    return false;
  }

  std::string LeadingBytesMessage() {
    return "a ZIP archive that does not start at byte 0 (something else comes first: a "
           "polyglot)";
  }

  // The end record whose comment length reaches the end of the file exactly (or, with
  // `exact` false, any end-record signature in the tail); npos when there is none.
  std::size_t FindEnd(bool exact) const {
    if (b_.size() < kEndSize) return npos;
    const std::size_t last = b_.size() - kEndSize;
    const std::size_t first = last > 0xffff ? last - 0xffff : 0;
    for (std::size_t p = last + 1; p-- > first;) {
      if (Le(b_, p, 4) != kEndSig) continue;
      if (!exact || p + kEndSize + Le(b_, p + 20, 2) == b_.size()) return p;
    }
    return npos;
  }

  bool ReadEnd() {
    end_ = FindEnd(true);
    if (end_ == npos) {
      const std::size_t loose = FindEnd(false);
      if (loose != npos) {
        return Fail(std::to_string(b_.size() - loose - kEndSize) +
                    " bytes follow the end of the ZIP archive");
      }
      NotZip("the ZIP archive has no end-of-central-directory record: the file is truncated");
      return false;
    }
    if (Le(b_, end_ + 20, 2) != 0) return Fail("the archive has a comment (TorchScript's has none)");
    if (Le(b_, end_ + 4, 2) != 0 || Le(b_, end_ + 6, 2) != 0) return Fail("a multi-disk archive");
    entries_ = Le(b_, end_ + 10, 2);
    const std::uint64_t entries_disk = Le(b_, end_ + 8, 2);
    cd_size_ = Le(b_, end_ + 12, 4);
    cd_offset_ = Le(b_, end_ + 16, 4);
    cd_limit_ = end_;
    if (end_ >= kLocatorSize && Le(b_, end_ - kLocatorSize, 4) == kZip64LocatorSig) {
      if (!ReadZip64End(entries_disk)) return false;
    } else if (entries_ == 0xffff || cd_size_ == 0xffffffff || cd_offset_ == 0xffffffff) {
      return Fail("zip64 values without a zip64 end record");
    } else if (entries_disk != entries_) {
      return Fail("a multi-disk archive");
    }
    if (entries_ == 0) return NotZipFalse("an empty ZIP archive (no entries)");
    if (entries_ > limits_.max_entries) {
      return Fail(std::to_string(entries_) + " entries, more than the limit of " +
                  std::to_string(limits_.max_entries));
    }
    if (cd_offset_ > cd_limit_ || cd_limit_ - cd_offset_ != cd_size_) {
      return Fail("the central directory (" + std::to_string(cd_size_) + " bytes at " +
                  std::to_string(cd_offset_) + ") does not end where the end records begin (" +
                  std::to_string(cd_limit_) + ")");
    }
    return true;
  }

  bool NotZipFalse(std::string message) {
    NotZip(std::move(message));
    return false;
  }

  // Checks a 32-bit field of the end record against its zip64 value.
  bool Agrees(std::uint64_t narrow, std::uint64_t wide, std::uint64_t sentinel) {
    return narrow == sentinel || narrow == wide;
  }

  bool ReadZip64End(std::uint64_t entries_disk) {
    const std::size_t locator = end_ - kLocatorSize;
    if (Le(b_, locator + 4, 4) != 0 || Le(b_, locator + 16, 4) != 1) {
      return Fail("a multi-disk archive (zip64 locator)");
    }
    const std::uint64_t record = Le(b_, locator + 8, 8);
    if (record > locator || locator - record < kZip64EndSize ||
        Le(b_, static_cast<std::size_t>(record), 4) != kZip64EndSig) {
      return Fail("the zip64 locator does not point at a zip64 end record");
    }
    const std::size_t r = static_cast<std::size_t>(record);
    if (Le(b_, r + 4, 8) != kZip64EndSize - 12 || r + kZip64EndSize != locator) {
      return Fail("the zip64 end record does not end where its locator begins");
    }
    if (Le(b_, r + 16, 4) != 0 || Le(b_, r + 20, 4) != 0) return Fail("a multi-disk archive");
    const std::uint64_t entries_disk64 = Le(b_, r + 24, 8), entries64 = Le(b_, r + 32, 8);
    const std::uint64_t size64 = Le(b_, r + 40, 8), offset64 = Le(b_, r + 48, 8);
    if (entries_disk64 != entries64 || !Agrees(entries_disk, entries_disk64, 0xffff) ||
        !Agrees(entries_, entries64, 0xffff) || !Agrees(cd_size_, size64, 0xffffffff) ||
        !Agrees(cd_offset_, offset64, 0xffffffff)) {
      return Fail("the end record and the zip64 end record disagree");
    }
    entries_ = entries64;
    cd_size_ = size64;
    cd_offset_ = offset64;
    cd_limit_ = r;
    return true;
  }

  // Fills the zip64 values of one header from its extra fields; checks their framing.
  bool ReadExtra(std::string_view extra, const std::string& what, std::uint64_t* size,
                 std::uint64_t* csize, std::uint64_t* offset) {
    bool seen64 = false;
    for (std::size_t p = 0; p < extra.size();) {
      if (p + 4 > extra.size()) return Fail(what + ": malformed extra field");
      const auto id = static_cast<std::uint16_t>(Le(extra, p, 2));
      const std::size_t len = Le(extra, p + 2, 2);
      if (p + 4 + len > extra.size()) return Fail(what + ": malformed extra field");
      if (id == kZip64ExtraId) {
        if (seen64) return Fail(what + ": two zip64 extra fields");
        seen64 = true;
        Zip64Fields z{extra.substr(p + 4, len)};
        if ((*size == 0xffffffff && !z.Take(size)) || (*csize == 0xffffffff && !z.Take(csize)) ||
            (offset && *offset == 0xffffffff && !z.Take(offset))) {
          return Fail(what + ": short zip64 extra field");
        }
      }
      p += 4 + len;
    }
    return true;
  }

  bool CheckEntry(const ZipEntry& e) {
    const std::string what = "entry \"" + Printable(e.name) + "\"";
    if (const std::string bad = ZipNameProblem(e.name, limits_.max_name_bytes); !bad.empty()) {
      return Fail(what + ": " + bad);
    }
    if (e.flags & ~kAllowedFlags) return Fail(what + ": encrypted or unsupported flags");
    if (e.method != 0 && e.method != 8) {
      return Fail(what + ": compression method " + std::to_string(e.method) +
                  " (only stored and deflate)");
    }
    if (e.method == 0 && e.size != e.compressed_size) {
      return Fail(what + ": stored, but its sizes differ");
    }
    if (e.size > limits_.max_inflated_entry) {
      return Fail(what + ": " + std::to_string(e.size) + " bytes uncompressed, more than the limit of " +
                  std::to_string(limits_.max_inflated_entry) + " (a zip bomb?)");
    }
    if (e.method == 8 && e.size > kRatioFloor &&
        e.size / std::max<std::uint64_t>(e.compressed_size, 1) > limits_.max_ratio) {
      return Fail(what + ": compressed " + std::to_string(e.size / std::max<std::uint64_t>(e.compressed_size, 1)) +
                  ":1, more than the limit of " + std::to_string(limits_.max_ratio) + ":1 (a zip bomb?)");
    }
    if (e.method == 8) inflated_ += e.size;
    if (inflated_ > limits_.max_inflated_total) {
      return Fail("the entries inflate to more than " +
                  std::to_string(limits_.max_inflated_total) + " bytes (a zip bomb?)");
    }
    if (e.header_offset >= cd_offset_) return Fail(what + ": its local header is not before the central directory");
    return true;
  }

  bool ReadCentral(ZipArchive& archive) {
    std::size_t p = static_cast<std::size_t>(cd_offset_);
    const std::size_t end = static_cast<std::size_t>(cd_limit_);
    std::unordered_set<std::string> names;
    archive.entries_.reserve(static_cast<std::size_t>(entries_));
    for (std::uint64_t i = 0; i < entries_; ++i) {
      if (p + kCentralSize > end || Le(b_, p, 4) != kCentralSig) {
        return Fail("the central directory holds fewer than its " + std::to_string(entries_) + " entries");
      }
      ZipEntry e;
      e.flags = static_cast<std::uint16_t>(Le(b_, p + 8, 2));
      e.method = static_cast<std::uint16_t>(Le(b_, p + 10, 2));
      e.crc32 = static_cast<std::uint32_t>(Le(b_, p + 16, 4));
      e.compressed_size = Le(b_, p + 20, 4);
      e.size = Le(b_, p + 24, 4);
      const std::size_t nlen = Le(b_, p + 28, 2), xlen = Le(b_, p + 30, 2), clen = Le(b_, p + 32, 2);
      const std::uint64_t disk = Le(b_, p + 34, 2);
      e.header_offset = Le(b_, p + 42, 4);
      if (p + kCentralSize + nlen + xlen + clen > end) return Fail("a central directory record runs past its end");
      e.name = std::string(b_.substr(p + kCentralSize, nlen));
      const std::string what = "entry \"" + Printable(e.name) + "\"";
      if (clen != 0) return Fail(what + ": has a comment (TorchScript writes none)");
      if (disk != 0) return Fail(what + ": on another disk");
      if (!ReadExtra(b_.substr(p + kCentralSize + nlen, xlen), what, &e.size, &e.compressed_size,
                     &e.header_offset) ||
          !CheckEntry(e)) {
        return false;
      }
      if (!names.insert(AsciiLower(e.name)).second) {
        return Fail(what + ": a second entry of that name (names compared without ASCII case, "
                    "as LibTorch's reader finds them)");
      }
      archive.entries_.push_back(std::move(e));
      p += kCentralSize + nlen + xlen + clen;
    }
    if (p != end) return Fail(std::to_string(end - p) + " bytes in the central directory after its last entry");
    archive.inflated_total_ = inflated_;
    return true;
  }

  // The data descriptor after an entry's data, as miniz writes it (signature, CRC, then
  // 32- or 64-bit sizes); its length when it ends exactly at `next`, or npos.
  std::size_t DescriptorLength(const ZipEntry& e, std::size_t at, std::size_t next) const {
    for (const bool sig : {true, false}) {
      for (const std::size_t width : {4u, 8u}) {
        const std::size_t len = (sig ? 4 : 0) + 4 + 2 * width;
        if (at + len != next) continue;
        std::size_t q = at;
        if (sig && Le(b_, q, 4) != kDescriptorSig) continue;
        q += sig ? 4 : 0;
        if (Le(b_, q, 4) == e.crc32 && Le(b_, q + 4, width) == e.compressed_size &&
            Le(b_, q + 4 + width, width) == e.size) {
          return len;
        }
      }
    }
    return npos;
  }

  bool ReadLocal(ZipEntry& e, std::size_t next) {
    const std::string what = "entry \"" + Printable(e.name) + "\"";
    const std::size_t p = static_cast<std::size_t>(e.header_offset);
    if (p + kLocalSize > next || Le(b_, p, 4) != kLocalSig) return Fail(what + ": no local header where the central directory says");
    const std::size_t nlen = Le(b_, p + 26, 2), xlen = Le(b_, p + 28, 2);
    if (p + kLocalSize + nlen + xlen > next) return Fail(what + ": its local header overlaps the next entry");
    if (Le(b_, p + 6, 2) != e.flags || Le(b_, p + 8, 2) != e.method ||
        b_.substr(p + kLocalSize, nlen) != e.name) {
      return Fail(what + ": its local header and central record disagree (name, flags or method)");
    }
    std::uint64_t crc = Le(b_, p + 14, 4), csize = Le(b_, p + 18, 4), size = Le(b_, p + 22, 4);
    if (!ReadExtra(b_.substr(p + kLocalSize + nlen, xlen), what, &size, &csize, nullptr)) return false;
    const bool zeros = crc == 0 && csize == 0 && size == 0;
    const bool same = crc == e.crc32 && csize == e.compressed_size && size == e.size;
    if (!same && !(zeros && (e.flags & kDescriptorFlag))) {
      return Fail(what + ": its local header and central record disagree (sizes or CRC)");
    }
    e.data_offset = p + kLocalSize + nlen + xlen;
    if (e.compressed_size > next - e.data_offset) return Fail(what + ": its data overlaps what follows");
    const std::size_t data_end = static_cast<std::size_t>(e.data_offset + e.compressed_size);
    if (e.flags & kDescriptorFlag) {
      if (DescriptorLength(e, data_end, next) == npos) {
        return Fail(what + ": " + std::to_string(next - data_end) +
                    " bytes after its data are not a data descriptor that matches it");
      }
    } else if (data_end != next) {
      return Fail(what + ": " + std::to_string(next - data_end) +
                  " unaccounted bytes after its data (hidden content?)");
    }
    return true;
  }

  bool ReadLocals(ZipArchive& archive) {
    auto& entries = archive.entries_;
    std::sort(entries.begin(), entries.end(), [](const ZipEntry& a, const ZipEntry& b) {
      return a.header_offset < b.header_offset;
    });
    if (entries.front().header_offset != 0) return Fail(LeadingBytesMessage());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const std::uint64_t next = i + 1 < entries.size() ? entries[i + 1].header_offset : cd_offset_;
      if (next == entries[i].header_offset) return Fail("two entries share one local header");
      if (!ReadLocal(entries[i], static_cast<std::size_t>(next))) return false;
    }
    return true;
  }

  std::string_view b_;
  const ZipLimits& limits_;
  ZipProblem* problem_;
  std::size_t end_ = 0;
  std::uint64_t entries_ = 0, cd_size_ = 0, cd_offset_ = 0, cd_limit_ = 0;
  std::uint64_t inflated_ = 0;
};

std::optional<ZipArchive> ZipArchive::Open(std::string_view bytes, const ZipLimits& limits,
                                           ZipProblem* problem) {
  return ZipParser(bytes, limits, problem).Run();
}

bool ZipArchive::Read(const ZipEntry& entry, std::string* storage, std::string_view* content,
                      std::string* why) const {
  const std::string_view data = bytes_.substr(static_cast<std::size_t>(entry.data_offset),
                                              static_cast<std::size_t>(entry.compressed_size));
  if (entry.method == 0) {
    *content = data;
  } else {
    if (!InflateExactly(data, entry.size, storage, why)) return false;
    *content = *storage;
  }
  if (Crc32(*content) != entry.crc32) {
    *why = "its CRC-32 does not match its content";
    return false;
  }
  return true;
}

}  // namespace bg::modelscan

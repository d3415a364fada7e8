#include "agent/git/pack_reader.h"

#include <dirent.h>
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "agent/git/git_delta.h"

namespace bg {
namespace {

constexpr std::size_t kMaxCachedBase = 64 << 10;

bool IsDelta(PackType type) { return type == PackType::kOfsDelta || type == PackType::kRefDelta; }

std::vector<std::string> IndexFiles(const std::string& pack_dir) {
  std::vector<std::string> out;
  DIR* dir = ::opendir(pack_dir.c_str());
  if (dir == nullptr) return out;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (name.size() > 9 && name.substr(0, 5) == "pack-" && name.substr(name.size() - 4) == ".idx") {
      out.push_back(pack_dir + "/" + std::string(name));
    }
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

struct PackReader::Inflater {
  z_stream stream{};
  bool ready = false;
  Inflater() { ready = inflateInit(&stream) == Z_OK; }
  ~Inflater() {
    if (ready) inflateEnd(&stream);
  }
};

PackReader::PackReader(const std::string& objects_dir) : inflater_(std::make_unique<Inflater>()) {
  for (const std::string& idx : IndexFiles(objects_dir + "/pack")) {
    auto pack = PackFile::Open(idx);
    if (pack.ok()) packs_.push_back(std::move(pack).value());
  }
}

PackReader::~PackReader() = default;

std::optional<std::size_t> PackReader::PackOf(const git_oid& oid, std::uint64_t& offset) const {
  for (std::size_t i = 0; i < packs_.size(); ++i) {
    const std::size_t pack = (last_hit_ + i) % packs_.size();
    if (const auto found = packs_[pack].Find(oid)) {
      last_hit_ = pack;
      offset = *found;
      return pack;
    }
  }
  return std::nullopt;
}

bool PackReader::Read(const git_oid& oid, PackType type, std::string& out) {
  if (!inflater_->ready) return false;
  std::uint64_t offset = 0;
  const auto pack = PackOf(oid, offset);
  PackType found = type;
  return pack && ReadAt(*pack, offset, found, out) && found == type;
}

std::optional<PackType> PackReader::TypeOf(const git_oid& oid) const {
  std::uint64_t offset = 0;
  const auto pack = PackOf(oid, offset);
  if (!pack) return std::nullopt;
  for (std::size_t depth = 0; depth <= kMaxDeltaChain; ++depth) {
    const auto entry = packs_[*pack].EntryAt(offset);
    if (!entry) return std::nullopt;
    if (!IsDelta(entry->type)) return entry->type;
    if (entry->type == PackType::kOfsDelta) {
      offset = entry->base_offset;
    } else {
      const auto base = packs_[*pack].Find(entry->base_id);
      if (!base) return std::nullopt;
      offset = *base;
    }
  }
  return std::nullopt;
}

// Walks the delta chain down to a whole object (or a cached one), then applies the deltas
// back up.
bool PackReader::ReadAt(std::size_t pack, std::uint64_t offset, PackType& type,
                        std::string& out) {
  chain_.clear();
  for (;;) {
    if (chain_.size() > kMaxDeltaChain) return false;
    const CachedBase& cached = Slot(pack, offset);
    if (cached.pack == pack && cached.offset == offset) {
      type = cached.type;
      out = cached.data;
      break;
    }
    const auto entry = packs_[pack].EntryAt(offset);
    if (!entry || entry->size > kMaxObject) return false;
    if (!IsDelta(entry->type)) {
      type = entry->type;
      if (!Inflate(*entry, out)) return false;
      break;
    }
    chain_.push_back({*entry, offset});
    if (entry->type == PackType::kOfsDelta) {
      offset = entry->base_offset;
    } else {
      const auto base = packs_[pack].Find(entry->base_id);
      if (!base) return false;  // a thin pack's base in another pack: libgit2 reads it
      offset = *base;
    }
  }
  // `offset` is now the base's; each delta rebuilds the object at its own offset.
  for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {
    CachedBase& slot = Slot(pack, offset);
    if (out.size() <= kMaxCachedBase && !(slot.pack == pack && slot.offset == offset)) {
      slot.pack = pack;
      slot.offset = offset;
      slot.type = type;
      slot.data = out;
    }
    if (!Inflate(it->entry, delta_)) return false;
    auto rebuilt = ApplyGitDelta(out, delta_, kMaxObject);
    if (!rebuilt.ok()) return false;
    out = std::move(rebuilt).value();
    offset = it->offset;
  }
  return true;
}

bool PackReader::Inflate(const PackEntry& entry, std::string& out) {
  z_stream& z = inflater_->stream;
  if (inflateReset(&z) != Z_OK) return false;
  out.resize(entry.size);
  z.next_in = const_cast<Bytef*>(entry.data);
  z.avail_in = static_cast<uInt>(std::min<std::size_t>(entry.available, UINT_MAX));
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(entry.size);
  // Z_STREAM_END: the stream ended and its Adler-32 matched; with nothing left of `out`,
  // exactly at the declared size.
  return inflate(&z, Z_FINISH) == Z_STREAM_END && z.avail_out == 0;
}

PackReader::CachedBase& PackReader::Slot(std::size_t pack, std::uint64_t offset) {
  const std::uint64_t key = (offset ^ (std::uint64_t{pack} << 48)) * 0x9E3779B97F4A7C15ull;
  return cache_[key >> 56];
}

}  // namespace bg

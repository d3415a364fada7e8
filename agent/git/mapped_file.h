// MappedFile: a whole file mapped read-only into memory (mmap), unmapped on destruction.
//
// For git's commit-graph files, which can be tens of megabytes on a big repository and of which
// a check reads a few scattered entries: mapping costs nothing up front, reading would.
//
// Thread safety: the mapping is immutable; const access from several threads is safe. Move-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/core/status.h"

namespace bg {

class MappedFile {
 public:
  // Maps the regular file at `path`. A missing file fails with a message naming it; so does an
  // empty one (nothing to map).
  static Result<MappedFile> Open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  MappedFile(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  void Unmap();

  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace bg

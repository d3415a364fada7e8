// A strict reader of the safetensors format (https://github.com/huggingface/safetensors).
//
// A bundle's parity data comes from the producer, so this parser is an attack surface and
// accepts only well-formed files. The layout is: an 8-byte little-endian header length N, N
// bytes of JSON header, then the data area. It refuses, naming the tensor and the problem:
//   - a file shorter than 8 bytes; N > 100 MiB (kMaxHeaderBytes) or N > file size - 8;
//   - a header that is not strict JSON (invalid UTF-8, a NUL byte, trailing bytes other than
//     the spaces writers pad with, duplicate keys at any level, nesting deeper than 8), or whose
//     top level is not an object, or that does not start with '{';
//   - `__metadata__` that is not an object of string values;
//   - a tensor name that is empty, longer than 1024 bytes, or holds a control character;
//   - a tensor entry without exactly the keys dtype, shape and data_offsets; a dtype outside the
//     table of dtype.h; a shape that is not an array of at most 32 non-negative integers;
//     data_offsets that are not two non-negative integers [begin, end] with begin <= end;
//   - shape x dtype size that overflows 64 bits or differs from end - begin;
//   - offsets that overlap, leave a hole, or do not cover the data area exactly. The format's
//     reference implementation demands the same (tensors packed back to back, in any order, from
//     offset 0 to the end of the file), so a file with unexplained bytes is refused: hidden
//     bytes are either a writer bug or smuggled content;
//   - a BOOL element other than 0 or 1 (LibTorch's bool tensors assume 0/1).
// Element bytes are otherwise not inspected (NaN and infinity are valid floats).
// Only little-endian hosts are supported (checked at compile time).
//
// Thread safety: a SafetensorsFile is immutable after Parse; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plugins/sdk/dtype.h"
#include "plugins/sdk/status.h"
#include "plugins/sdk/tensor.h"

namespace bg::sdk {

inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100ull << 20;
inline constexpr std::size_t kMaxTensorNameBytes = 1024;
inline constexpr std::size_t kMaxTensorRank = 32;

struct TensorEntry {
  std::string name;
  Dtype dtype = Dtype::kF32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets into the data area
  std::uint64_t end = 0;
};

class SafetensorsFile {
 public:
  // Validates and keeps `bytes` (a whole file). `source` names the file in error messages,
  // which read "<source>: tensor 'x': <problem>".
  static Result<SafetensorsFile> Parse(std::string bytes, const std::string& source);

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Every tensor, sorted by name.
  const std::vector<TensorEntry>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorEntry* Find(std::string_view name) const;
  // The entry's bytes, valid while this object lives.
  std::string_view Bytes(const TensorEntry& entry) const;
  // A copy of the entry as a HostTensor.
  HostTensor Tensor(const TensorEntry& entry) const;

 private:
  SafetensorsFile() = default;
  std::string bytes_;
  std::uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<TensorEntry> tensors_;
};

// A tensor name as the reader accepts it (see the header comment).
bool IsValidTensorName(std::string_view name);

}  // namespace bg::sdk

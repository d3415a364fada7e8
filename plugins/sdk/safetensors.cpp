// The safetensors reader. This file is the adapter to nlohmann::json's parser: its exceptions
// are caught here and become Status values.
#include "plugins/sdk/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the safetensors reader supports little-endian hosts only"
#endif

namespace bg::sdk {
namespace {

using HeaderJson = nlohmann::json;
constexpr int kMaxHeaderDepth = 8;

std::string Quote(std::string_view name) { return "'" + std::string(name) + "'"; }

struct TooDeep {};  // thrown by the parse callback to stop at once; caught in ParseHeaderJson

// Parses the header as strict JSON: no duplicate key at any level, bounded nesting.
Result<HeaderJson> ParseHeaderJson(std::string_view text) {
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto callback = [&](int depth, HeaderJson::parse_event_t event, HeaderJson& parsed) {
    using Event = HeaderJson::parse_event_t;
    if (depth > kMaxHeaderDepth) throw TooDeep{};
    if (event == Event::object_start) open_objects.emplace_back();
    if (event == Event::object_end) open_objects.pop_back();
    if (event == Event::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty()) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  try {
    HeaderJson header = HeaderJson::parse(text.begin(), text.end(), callback);
    if (!duplicate.empty()) return Status::Error("header: duplicate key " + Quote(duplicate));
    return header;
  } catch (const TooDeep&) {
    return Status::Error("header: nested deeper than " + std::to_string(kMaxHeaderDepth));
  } catch (const HeaderJson::exception& e) {
    std::string what = e.what();
    const auto cut = what.find("] ");
    return Status::Error("header is not valid JSON: " +
                         (cut == std::string::npos ? what : what.substr(cut + 2)));
  }
}

Result<std::uint64_t> ReadUnsigned(const HeaderJson& v, const std::string& what) {
  if (!v.is_number_unsigned()) return Status::Error(what + " is not a non-negative integer");
  return v.get<std::uint64_t>();
}

Result<std::vector<std::int64_t>> ReadShape(const HeaderJson& v) {
  if (!v.is_array()) return Status::Error("shape is not an array");
  if (v.size() > kMaxTensorRank) {
    return Status::Error("shape has " + std::to_string(v.size()) + " dimensions (at most " +
                         std::to_string(kMaxTensorRank) + ")");
  }
  std::vector<std::int64_t> shape;
  for (const auto& d : v) {
    BG_SDK_ASSIGN_OR_RETURN(auto dim, ReadUnsigned(d, "a shape dimension"));
    if (dim > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Status::Error("a shape dimension exceeds 2^63-1");
    }
    shape.push_back(static_cast<std::int64_t>(dim));
  }
  return shape;
}

// shape x element size in bytes, or an error on 64-bit overflow.
Result<std::uint64_t> ByteSize(const std::vector<std::int64_t>& shape, Dtype dtype) {
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return std::uint64_t{0};
  std::uint64_t bytes = DtypeSize(dtype);
  for (auto d : shape) {
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(d), &bytes)) {
      return Status::Error("shape " + ShapeString(shape) + " x " +
                           std::string(SafetensorsName(dtype)) + " overflows 64 bits");
    }
  }
  return bytes;
}

Status CheckEntryKeys(const HeaderJson& v) {
  if (!v.is_object()) return Status::Error("entry is not an object");
  for (const auto& [key, unused] : v.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      return Status::Error("unexpected key " + Quote(key));
    }
  }
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!v.contains(key)) return Status::Error("missing key " + Quote(key));
  }
  return Status::Ok();
}

Result<TensorEntry> ReadEntry(const std::string& name, const HeaderJson& v) {
  if (!IsValidTensorName(name)) {
    return Status::Error("invalid name (empty, over " + std::to_string(kMaxTensorNameBytes) +
                         " bytes, or with a control character)");
  }
  BG_SDK_RETURN_IF_ERROR(CheckEntryKeys(v));
  TensorEntry e;
  e.name = name;
  const auto& dtype = v.at("dtype");
  if (!dtype.is_string()) return Status::Error("dtype is not a string");
  const auto parsed = ParseSafetensorsName(dtype.get<std::string>());
  if (!parsed)
    return Status::Error("unknown or unsupported dtype " + Quote(dtype.get<std::string>()));
  e.dtype = *parsed;
  BG_SDK_ASSIGN_OR_RETURN(e.shape, ReadShape(v.at("shape")));
  const auto& offsets = v.at("data_offsets");
  if (!offsets.is_array() || offsets.size() != 2) {
    return Status::Error("data_offsets is not an array of two integers");
  }
  BG_SDK_ASSIGN_OR_RETURN(e.begin, ReadUnsigned(offsets[0], "data_offsets[0]"));
  BG_SDK_ASSIGN_OR_RETURN(e.end, ReadUnsigned(offsets[1], "data_offsets[1]"));
  if (e.begin > e.end) return Status::Error("data_offsets begin after they end");
  BG_SDK_ASSIGN_OR_RETURN(auto bytes, ByteSize(e.shape, e.dtype));
  if (bytes != e.end - e.begin) {
    return Status::Error("shape " + ShapeString(e.shape) + " x " +
                         std::string(SafetensorsName(e.dtype)) + " is " + std::to_string(bytes) +
                         " bytes but data_offsets span " + std::to_string(e.end - e.begin));
  }
  return e;
}

Result<std::map<std::string, std::string>> ReadMetadata(const HeaderJson& v) {
  if (!v.is_object()) return Status::Error("__metadata__ is not an object");
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) return Status::Error("__metadata__ " + Quote(key) + " is not a string");
    metadata[key] = value.get<std::string>();
  }
  return metadata;
}

std::string Span(const TensorEntry& e) {
  return "[" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "]";
}

// Tensors must tile the data area exactly: sorted by offset, each starts where the last ended.
Status CheckLayout(std::vector<TensorEntry> entries, std::uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  std::uint64_t covered = 0;
  const TensorEntry* previous = nullptr;
  for (const auto& e : entries) {
    const std::string where = "tensor " + Quote(e.name) + ": data_offsets " + Span(e);
    if (e.end > data_size) {
      return Status::Error(where + " end past the data area (" + std::to_string(data_size) +
                           " bytes)");
    }
    if (e.begin < covered) {
      return Status::Error(where + " overlap tensor " + Quote(previous->name) + " " +
                           Span(*previous));
    }
    if (e.begin > covered) {
      return Status::Error(where + " leave a hole of " + std::to_string(e.begin - covered) +
                           " bytes " +
                           (previous ? "after tensor " + Quote(previous->name)
                                     : std::string("at the start of the data area")));
    }
    covered = e.end;
    previous = &e;
  }
  if (covered != data_size) {
    return Status::Error("the data area holds " + std::to_string(data_size) +
                         " bytes but the tensors cover " + std::to_string(covered) +
                         " (trailing bytes)");
  }
  return Status::Ok();
}

Status CheckBoolValues(const TensorEntry& e, std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    if (b > 1) {
      return Status::Error("tensor " + Quote(e.name) + ": bool element " + std::to_string(i) +
                           " is " + std::to_string(b) + ", not 0 or 1");
    }
  }
  return Status::Ok();
}

}  // namespace

bool IsValidTensorName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTensorNameBytes || name == "__metadata__") return false;
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return false;
  }
  return true;
}

Result<SafetensorsFile> SafetensorsFile::Parse(std::string bytes, const std::string& source) {
  auto fail = [&](const std::string& message) { return Status::Error(source + ": " + message); };
  if (bytes.size() < 8) {
    return fail("file is " + std::to_string(bytes.size()) +
                " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  if (header_len > kMaxSafetensorsHeaderBytes) {
    return fail("header length " + std::to_string(header_len) + " exceeds the limit of " +
                std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  }
  if (header_len > bytes.size() - 8) {
    return fail("header length " + std::to_string(header_len) + " exceeds the " +
                std::to_string(bytes.size() - 8) + " bytes that follow it");
  }
  const std::string_view text(bytes.data() + 8, header_len);
  if (text.empty() || text.front() != '{') return fail("header does not start with '{'");
  // nlohmann's parser takes a NUL byte for the end of its input: refuse it before, or bytes after
  // it would be silently ignored (valid JSON never holds a raw NUL).
  if (text.find('\0') != std::string_view::npos) return fail("header contains a NUL byte");
  auto header = ParseHeaderJson(text);
  if (!header.ok()) return fail(header.status().message());
  if (!header->is_object() || text[text.find_last_not_of(' ')] != '}') {
    return fail("header is not one JSON object padded with spaces");
  }
  SafetensorsFile file;
  for (const auto& [name, value] : header->items()) {
    if (name == "__metadata__") {
      auto metadata = ReadMetadata(value);
      if (!metadata.ok()) return fail(metadata.status().message());
      file.metadata_ = std::move(metadata).value();
      continue;
    }
    auto entry = ReadEntry(name, value);
    if (!entry.ok()) return fail("tensor " + Quote(name) + ": " + entry.status().message());
    file.tensors_.push_back(std::move(entry).value());
  }
  file.data_start_ = 8 + header_len;
  const Status layout = CheckLayout(file.tensors_, bytes.size() - file.data_start_);
  if (!layout.ok()) return fail(layout.message());
  file.bytes_ = std::move(bytes);
  for (const auto& e : file.tensors_) {
    if (e.dtype != Dtype::kBool) continue;
    const Status bools = CheckBoolValues(e, file.Bytes(e));
    if (!bools.ok()) return fail(bools.message());
  }
  return file;
}

const TensorEntry* SafetensorsFile::Find(std::string_view name) const {
  const auto it = std::lower_bound(
      tensors_.begin(), tensors_.end(), name,
      [](const TensorEntry& e, std::string_view n) { return std::string_view(e.name) < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

std::string_view SafetensorsFile::Bytes(const TensorEntry& entry) const {
  return std::string_view(bytes_).substr(data_start_ + entry.begin, entry.end - entry.begin);
}

HostTensor SafetensorsFile::Tensor(const TensorEntry& entry) const {
  return HostTensor{entry.dtype, entry.shape, std::string(Bytes(entry))};
}

}  // namespace bg::sdk

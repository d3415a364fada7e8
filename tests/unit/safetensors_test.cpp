// The plugin SDK's safetensors reader and writer: valid files round-trip; malformed ones (the
// reader is an attack surface) are refused with a message naming the tensor and the problem.
#include "plugins/sdk/safetensors.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>

#include "plugins/sdk/safetensors_writer.h"

using namespace bg::sdk;

namespace {

// A file from raw parts: the 8-byte length (the header's own, unless `length` lies), the
// header text and the data area.
std::string Raw(const std::string& header, const std::string& data = "",
                std::optional<std::uint64_t> length = std::nullopt) {
  const std::uint64_t n = length.value_or(header.size());
  std::string out(8, '\0');
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

HostTensor F32(std::vector<std::int64_t> shape, std::vector<float> values) {
  HostTensor t{Dtype::kF32, std::move(shape), std::string(values.size() * 4, '\0')};
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

std::string Serialize(const std::vector<NamedTensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {}) {
  auto bytes = SerializeSafetensors(tensors, metadata);
  REQUIRE(bytes.ok());
  return *bytes;
}

// Parses and returns the error (empty when it parsed).
std::string ErrorOf(std::string bytes) {
  auto f = SafetensorsFile::Parse(std::move(bytes), "x.safetensors");
  return f.ok() ? "" : f.status().message();
}

void RequireRefused(const std::string& bytes, const std::string& fragment) {
  const std::string error = ErrorOf(bytes);
  INFO("error: " << error);
  REQUIRE_FALSE(error.empty());
  CHECK_THAT(error, Catch::StartsWith("x.safetensors: "));
  CHECK_THAT(error, Catch::Contains(fragment));
}

const std::string kOneTensor = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

}  // namespace

TEST_CASE("safetensors round-trips every dtype with metadata") {
  std::vector<NamedTensor> tensors;
  for (Dtype d : {Dtype::kF16, Dtype::kBF16, Dtype::kF32, Dtype::kF64, Dtype::kI8, Dtype::kI16,
                  Dtype::kI32, Dtype::kI64, Dtype::kU8, Dtype::kBool}) {
    HostTensor t{d, {2, 3}, std::string(6 * DtypeSize(d), '\x01')};
    tensors.push_back({"t_" + std::string(SafetensorsName(d)), t});
  }
  const std::string bytes = Serialize(tensors, {{"format", "pt"}});
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  CHECK(header_len % 8 == 0);  // padded with spaces, data aligned
  auto file = SafetensorsFile::Parse(bytes, "x");
  REQUIRE(file.ok());
  CHECK(file->metadata().at("format") == "pt");
  REQUIRE(file->tensors().size() == tensors.size());
  for (const auto& nt : tensors) {
    const TensorEntry* e = file->Find(nt.name);
    REQUIRE(e != nullptr);
    CHECK(e->dtype == nt.tensor.dtype);
    CHECK(e->shape == nt.tensor.shape);
    CHECK(file->Tensor(*e).data == nt.tensor.data);
  }
  CHECK(file->Find("absent") == nullptr);
}

TEST_CASE("safetensors accepts scalars empty tensors and a file with no tensor") {
  const std::string bytes = Serialize({{"scalar", F32({}, {1.5f})},
                                       {"empty", HostTensor{Dtype::kF32, {0, 3}, ""}},
                                       {"after", F32({1}, {2.0f})}});
  auto file = SafetensorsFile::Parse(bytes, "x");
  REQUIRE(file.ok());
  CHECK(file->Find("scalar")->shape.empty());
  CHECK(file->Bytes(*file->Find("empty")).empty());
  CHECK(ErrorOf(Raw("{}")).empty());
  CHECK(ErrorOf(Raw(R"({"__metadata__":{"a":"b"}})")).empty());
  // Tensors may be stored in any order, as long as they tile the data area.
  CHECK(ErrorOf(Raw(R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},)"
                    R"("a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                    "xy"))
            .empty());
}

TEST_CASE("safetensors refuses files too short for their header") {
  RequireRefused("", "shorter than the 8-byte header length");
  RequireRefused(std::string(7, '\0'), "shorter than the 8-byte header length");
  RequireRefused(Raw(kOneTensor, std::string(8, '\0'), kOneTensor.size() + 9),
                 "exceeds the " + std::to_string(kOneTensor.size() + 8) + " bytes that follow it");
  RequireRefused(Raw("{}", "", std::numeric_limits<std::uint64_t>::max()), "exceeds the limit");
  RequireRefused(Raw("{}", "", (100ull << 20) + 1), "exceeds the limit of 104857600 bytes");
  RequireRefused(Raw("", ""), "does not start with '{'");
}

TEST_CASE("safetensors refuses every truncation of a valid file") {
  const std::string bytes =
      Serialize({{"a", F32({2, 2}, {1, 2, 3, 4})}, {"b", F32({3}, {5, 6, 7})}});
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    INFO("truncated to " << n << " bytes");
    CHECK_FALSE(ErrorOf(bytes.substr(0, n)).empty());
  }
}

TEST_CASE("safetensors survives any single corrupted header byte") {
  const std::string bytes = Serialize({{"a", F32({2}, {1, 2})}, {"b", F32({1}, {3})}});
  std::uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  for (std::size_t i = 0; i < 8 + header_len; ++i) {
    for (char c : {'\0', '"', '9', '{', '\xff', '-'}) {
      std::string mutated = bytes;
      mutated[i] = c;
      (void)ErrorOf(mutated);  // must return (ok or error), never crash or hang
    }
  }
  SUCCEED();
}

TEST_CASE("safetensors refuses offsets that overlap leave holes or overrun") {
  RequireRefused(Raw(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                     R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                     "xyz"),
                 "tensor 'b': data_offsets [1, 3] overlap tensor 'a' [0, 2]");
  RequireRefused(Raw(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}})",
                     "xyz"),
                 "tensor 'b': data_offsets [2, 3] leave a hole of 1 bytes after tensor 'a'");
  RequireRefused(Raw(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "xy"),
                 "leave a hole of 1 bytes at the start of the data area");
  RequireRefused(Raw(kOneTensor, std::string(4, '\0')), "end past the data area (4 bytes)");
  RequireRefused(Raw(kOneTensor, std::string(9, '\0')), "trailing bytes");
  RequireRefused(Raw(R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[2,1]}})", "x"),
                 "tensor 'a': data_offsets begin after they end");
  // Two tensors sharing the same bytes.
  RequireRefused(Raw(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                     "x"),
                 "overlap");
}

TEST_CASE("safetensors refuses shapes that do not match their bytes or overflow") {
  RequireRefused(
      Raw(R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", std::string(8, '\0')),
      "tensor 't': shape [3] x F32 is 12 bytes but data_offsets span 8");
  RequireRefused(
      Raw(R"({"t":{"dtype":"I64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})",
          std::string(8, '\0')),
      "tensor 't': shape [4294967296, 4294967296] x I64 overflows 64 bits");
  RequireRefused(
      Raw(R"({"t":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}})", "x"),
      "exceeds 2^63-1");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "x"),
                 "tensor 't': a shape dimension is not a non-negative integer");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})", "x"),
                 "not a non-negative integer");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":"1","data_offsets":[0,1]}})", "x"),
                 "shape is not an array");
  std::string dims;
  for (int i = 0; i < 33; ++i) dims += std::string(i ? "," : "") + "1";
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[)" + dims + R"(],"data_offsets":[0,1]}})", "x"),
                 "shape has 33 dimensions");
  // A zero dimension makes the tensor empty whatever the others are.
  CHECK(ErrorOf(
            Raw(R"({"t":{"dtype":"I64","shape":[4294967296,0,4294967296],"data_offsets":[0,0]}})"))
            .empty());
}

TEST_CASE("safetensors refuses unknown dtypes and malformed entries") {
  for (const char* dtype : {"F8_E4M3", "U16", "U64", "f32", "C64", ""}) {
    INFO(dtype);
    RequireRefused(
        Raw(std::string(R"({"t":{"dtype":")") + dtype + R"(","shape":[1],"data_offsets":[0,1]}})",
            "x"),
        "tensor 't': unknown or unsupported dtype");
  }
  RequireRefused(Raw(R"({"t":{"dtype":1,"shape":[1],"data_offsets":[0,1]}})", "x"),
                 "dtype is not a string");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[1]}})", "x"),
                 "tensor 't': missing key 'data_offsets'");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":1}})", "x"),
                 "tensor 't': unexpected key 'extra'");
  RequireRefused(Raw(R"({"t":[1,2]})", "x"), "tensor 't': entry is not an object");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0]}})", "x"),
                 "data_offsets is not an array of two integers");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,-1]}})", "x"),
                 "data_offsets[1] is not a non-negative integer");
}

TEST_CASE("safetensors refuses duplicate keys at any level") {
  RequireRefused(Raw(R"({"t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                     R"("t":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                     "x"),
                 "duplicate key 't'");
  RequireRefused(Raw(R"({"t":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}})", "x"),
                 "duplicate key 'dtype'");
  RequireRefused(Raw(R"({"__metadata__":{"a":"1","a":"2"}})"), "duplicate key 'a'");
  RequireRefused(Raw(R"({"__metadata__":{},"__metadata__":{}})"), "duplicate key '__metadata__'");
}

TEST_CASE("safetensors refuses headers that are not strict JSON") {
  RequireRefused(Raw("{\"t\xff\":{}}"), "not valid JSON");  // bad UTF-8 in a key
  RequireRefused(Raw("{\"__metadata__\":{\"a\":\"\xc3\x28\"}}"),
                 "not valid JSON");  // and in a value
  RequireRefused(Raw(R"({"t":{"dtype":"U8",)"), "not valid JSON");
  RequireRefused(Raw(R"({} x)"), "not valid JSON");
  RequireRefused(Raw("[1,2]"), "does not start with '{'");
  RequireRefused(Raw("{}\n"), "padded with spaces");
  RequireRefused(Raw(std::string("{}\0\0", 4)), "NUL byte");
  // A NUL would end nlohmann's input early: what follows it must not be silently ignored.
  RequireRefused(Raw(std::string("{}\0{\"t\":1}", 10)), "NUL byte");
  RequireRefused(Raw(R"({"__metadata__":{"a":[[[[[[[[[1]]]]]]]]]}})"), "nested deeper than 8");
  CHECK(ErrorOf(Raw("{}      ")).empty());  // the padding writers use
}

TEST_CASE("safetensors validates metadata and tensor names") {
  RequireRefused(Raw(R"({"__metadata__":{"a":1}})"), "__metadata__ 'a' is not a string");
  RequireRefused(Raw(R"({"__metadata__":[]})"), "__metadata__ is not an object");
  RequireRefused(Raw(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x"),
                 "invalid name");
  RequireRefused(
      Raw("{\"a\\u0001b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", "x"),
      "invalid name");
  RequireRefused(Raw(R"({")" + std::string(1025, 'n') +
                         R"(":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
                     "x"),
                 "invalid name");
  CHECK(IsValidTensorName("layer.0.weight"));
  CHECK(IsValidTensorName("caf\xc3\xa9"));
  CHECK_FALSE(IsValidTensorName("__metadata__"));
}

TEST_CASE("safetensors refuses bool elements other than 0 and 1") {
  RequireRefused(Raw(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                     std::string("\x01\x00\x02", 3)),
                 "tensor 'm': bool element 2 is 2, not 0 or 1");
  CHECK(ErrorOf(Raw(R"({"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}})",
                    std::string("\x01\x00", 2)))
            .empty());
}

TEST_CASE("the safetensors writer refuses bad names and inconsistent tensors") {
  CHECK_FALSE(SerializeSafetensors({{"", F32({1}, {1})}}).ok());
  CHECK_FALSE(SerializeSafetensors({{"__metadata__", F32({1}, {1})}}).ok());
  auto twice = SerializeSafetensors({{"a", F32({1}, {1})}, {"a", F32({1}, {2})}});
  REQUIRE_FALSE(twice.ok());
  CHECK_THAT(twice.status().message(), Catch::Contains("given twice"));
  auto bad = SerializeSafetensors({{"a", HostTensor{Dtype::kF32, {3}, std::string(8, '\0')}}});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("do not match shape [3]"));
}

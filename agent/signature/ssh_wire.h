// The SSH wire encoding (RFC 4251 section 5) that keys, signatures and SSHSIG blobs are made of:
// uint32 big-endian, string (uint32 length + bytes) and mpint.
//
// SshReader never reads past its buffer: every length is checked against what remains, so a
// hostile length field (0xFFFFFFFF) is a parse failure, never an allocation or an overread.
//
// Thread safety: a reader belongs to one thread; the writers are pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bg {

class SshReader {
 public:
  explicit SshReader(std::string_view data) : data_(data) {}

  bool ReadU32(std::uint32_t* out);
  bool ReadString(std::string_view* out);
  bool ReadBytes(std::size_t n, std::string_view* out);
  // An mpint that must be positive and minimally encoded (no superfluous leading zero byte);
  // `out` gets its magnitude, big-endian, without the sign byte.
  bool ReadPositiveMpint(std::string_view* out);

  bool empty() const { return data_.empty(); }
  std::size_t remaining() const { return data_.size(); }

 private:
  std::string_view data_;
};

void PutU32(std::string* out, std::uint32_t v);
void PutString(std::string* out, std::string_view s);
// An mpint of the unsigned big-endian magnitude `magnitude` (leading zeros dropped, a zero
// byte added when the top bit is set).
void PutMpint(std::string* out, std::string_view magnitude);

}  // namespace bg

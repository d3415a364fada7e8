#include "agent/signature/ssh_wire.h"

namespace bg {

bool SshReader::ReadU32(std::uint32_t* out) {
  if (data_.size() < 4) return false;
  *out = (std::uint32_t{static_cast<unsigned char>(data_[0])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(data_[1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(data_[2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(data_[3])};
  data_.remove_prefix(4);
  return true;
}

bool SshReader::ReadBytes(std::size_t n, std::string_view* out) {
  if (data_.size() < n) return false;
  *out = data_.substr(0, n);
  data_.remove_prefix(n);
  return true;
}

bool SshReader::ReadString(std::string_view* out) {
  std::string_view saved = data_;
  std::uint32_t length = 0;
  if (!ReadU32(&length) || !ReadBytes(length, out)) {
    data_ = saved;
    return false;
  }
  return true;
}

bool SshReader::ReadPositiveMpint(std::string_view* out) {
  std::string_view saved = data_;
  std::string_view raw;
  if (!ReadString(&raw)) return false;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(raw[i]); };
  bool ok = !raw.empty() && (byte(0) & 0x80) == 0;            // positive, not zero-length
  if (ok && byte(0) == 0) ok = raw.size() > 1 && (byte(1) & 0x80) != 0;  // zero only as sign
  if (!ok) {
    data_ = saved;
    return false;
  }
  if (byte(0) == 0) raw.remove_prefix(1);
  *out = raw;
  return true;
}

void PutU32(std::string* out, std::uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

void PutString(std::string* out, std::string_view s) {
  PutU32(out, static_cast<std::uint32_t>(s.size()));
  out->append(s);
}

void PutMpint(std::string* out, std::string_view magnitude) {
  while (!magnitude.empty() && magnitude.front() == '\0') magnitude.remove_prefix(1);
  std::string value;
  if (!magnitude.empty() && (static_cast<unsigned char>(magnitude.front()) & 0x80) != 0) {
    value.push_back('\0');
  }
  value.append(magnitude);
  PutString(out, value);
}

}  // namespace bg

#include "agent/serving/byte_names.h"

#include "agent/core/hex.h"
#include "agent/core/utf8.h"

namespace bg {

void PutBytes(Json& j, const std::string& key, const std::string& bytes, bool always_hex) {
  j[key] = bytes;
  if (always_hex || !IsValidUtf8(bytes)) {
    j[key + "_hex"] = ToHex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
}

std::optional<std::string> GetBytes(const Json& j, const std::string& key) {
  if (!j.is_object()) return std::nullopt;
  const auto hex = j.find(key + "_hex");
  if (hex != j.end() && hex->is_string()) {
    if (auto bytes = FromHex(hex->get<std::string>())) return bytes;
  }
  const auto text = j.find(key);
  if (text != j.end() && text->is_string()) return text->get<std::string>();
  return std::nullopt;
}

}  // namespace bg

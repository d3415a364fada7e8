// Streaming SHA-256 through OpenSSL's EVP interface (which picks the CPU's SHA extensions or
// AVX2 code paths, as `openssl dgst` does).
//
// Thread safety: one Sha256 per thread; distinct objects are independent.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace bg {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, std::size_t size);
  void Update(std::string_view data) { Update(data.data(), data.size()); }
  // The digest as 64 lower-case hex characters. The object is reset afterwards.
  std::string FinalHex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// SHA-256 of `data`, 64 lower-case hex characters.
std::string Sha256Hex(std::string_view data);

}  // namespace bg

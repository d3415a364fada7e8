// ListenAddress: where the agent's HTTP endpoint listens, from `[http] listen`.
//
//   ""                              off (the default)
//   "127.0.0.1:9464", "[::1]:9464"  TCP on a numeric address ("localhost" means 127.0.0.1);
//                                   port 0 picks a free port (tests), reported in status
//   "unix:/run/bundlegate/http.sock" or "/run/bundlegate/http.sock"
//                                   a unix stream socket at that absolute path
// Host names other than "localhost" are refused: an agent must not depend on DNS to start.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/core/status.h"

namespace bg {

struct ListenAddress {
  enum class Kind { kOff, kTcp, kUnix };
  Kind kind = Kind::kOff;
  std::string host;  // kTcp: numeric IPv4 or IPv6, without brackets
  std::uint16_t port = 0;
  std::string path;  // kUnix: absolute

  bool off() const { return kind == Kind::kOff; }
  bool operator==(const ListenAddress&) const = default;
  // "127.0.0.1:9464", "[::1]:9464", "unix:/path", or "" when off.
  std::string ToString() const;
};

Result<ListenAddress> ParseListenAddress(std::string_view text);

}  // namespace bg

// The request a plugin reads on stdin (SPEC.md "Plugins"):
//   {"protocol": 1, "bundle_dir": "/abs/path", "manifest": {...}, "config": {...}}
// "manifest" is the agent's Manifest::ToJson(); "config" is the check's [[checks]] table minus
// the agent's own keys ({} when absent). Keys beyond these are ignored, so that a newer agent
// may add some without breaking older plugins; a different protocol number is refused.
//
// Thread safety: values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plugins/sdk/json.h"
#include "plugins/sdk/status.h"

namespace bg::sdk {

inline constexpr int kProtocolVersion = 1;
// A request larger than this is refused unread (a manifest with a signature for a very large
// model is a few MiB).
inline constexpr std::uint64_t kMaxRequestBytes = 16ull << 20;
// Nor one nested deeper than this (the manifest nests 4 deep; a check's config is TOML, which
// the agent bounds at 64).
inline constexpr std::size_t kMaxRequestDepth = 128;

struct Request {
  int protocol = kProtocolVersion;
  std::string bundle_dir;  // absolute
  Json manifest = Json::object();
  Json config = Json::object();
};

// Parses and validates a request's text. The error says what is wrong with it.
Result<Request> ParseRequest(std::string_view text);

// Reads all of `fd` (stdin) up to kMaxRequestBytes and parses it.
Result<Request> ReadRequest(int fd);

}  // namespace bg::sdk

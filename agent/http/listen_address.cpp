#include "agent/http/listen_address.h"

#include <arpa/inet.h>
#include <sys/un.h>

namespace bg {
namespace {

bool IsNumericHost(const std::string& host, int family) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(family, host.c_str(), buf) == 1;
}

Result<std::uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  if (text.empty() || text.size() > 5) {
    return Status::Error("\"" + std::string(whole) + "\": the port must be a number from 0 to 65535");
  }
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::Error("\"" + std::string(whole) + "\": the port must be a number from 0 to 65535");
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) {
    return Status::Error("\"" + std::string(whole) + "\": the port must be a number from 0 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

Result<ListenAddress> ParseUnix(std::string_view path, std::string_view whole) {
  ListenAddress a;
  a.kind = ListenAddress::Kind::kUnix;
  a.path = std::string(path);
  if (a.path.empty() || a.path[0] != '/') {
    return Status::Error("\"" + std::string(whole) + "\": a unix socket path must be absolute");
  }
  if (a.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Status::Error("\"" + std::string(whole) + "\": a unix socket path must be shorter than " +
                         std::to_string(sizeof(sockaddr_un{}.sun_path)) + " bytes");
  }
  return a;
}

}  // namespace

std::string ListenAddress::ToString() const {
  switch (kind) {
    case Kind::kOff: return "";
    case Kind::kUnix: return "unix:" + path;
    case Kind::kTcp:
      return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
             std::to_string(port);
  }
  return "";
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  if (text.empty()) return ListenAddress{};
  if (text.substr(0, 5) == "unix:") return ParseUnix(text.substr(5), text);
  if (text[0] == '/') return ParseUnix(text, text);
  ListenAddress a;
  a.kind = ListenAddress::Kind::kTcp;
  std::string_view port;
  if (text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::Error("\"" + std::string(text) + "\": expected [<IPv6 address>]:<port>");
    }
    a.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    if (!IsNumericHost(a.host, AF_INET6)) {
      return Status::Error("\"" + std::string(text) + "\": \"" + a.host + "\" is not an IPv6 address");
    }
  } else {
    const std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::Error("\"" + std::string(text) +
                           "\": expected <address>:<port>, unix:<path> or an absolute path");
    }
    a.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (a.host == "localhost") a.host = "127.0.0.1";
    if (!IsNumericHost(a.host, AF_INET)) {
      return Status::Error("\"" + std::string(text) + "\": \"" + a.host +
                           "\" is not an IPv4 address (use a numeric address, [::1] for IPv6, "
                           "or localhost)");
    }
  }
  BG_ASSIGN_OR_RETURN(a.port, ParsePort(port, text));
  return a;
}

}  // namespace bg

// A small HTTP/1.1 client over raw sockets, for tests of the agent's endpoint: plain requests,
// and the misbehaving ones a real client library would refuse to send (garbage, huge headers,
// requests dribbled a byte at a time, connections left open).
//
// Addresses are what the agent reports: "127.0.0.1:41234", "[::1]:41234" or "unix:/path".
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace bg::test {

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

class HttpConnection {
 public:
  // Connects; `ok()` says whether it did.
  explicit HttpConnection(const std::string& address);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Writes all of `bytes`; false when the peer closed or reset the connection.
  bool Send(const std::string& bytes);
  // Reads one response (Content-Length framed; `head`: no body follows). nullopt on timeout,
  // EOF or a reset before a whole response arrived.
  std::optional<HttpReply> Read(std::chrono::milliseconds timeout, bool head = false);
  // Waits until the peer closes (EOF or reset): true if it did within `timeout`. Data that
  // arrives meanwhile is read and dropped.
  bool WaitClosed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;  // bytes read past the last response
};

// GET (or HEAD) `path` on a fresh connection with "Connection: close"; `extra` headers are
// "Name: value\r\n" lines. nullopt when no response came within `timeout`.
std::optional<HttpReply> HttpGet(const std::string& address, const std::string& path,
                                 const std::string& extra = "",
                                 std::chrono::milliseconds timeout = std::chrono::seconds(20),
                                 const std::string& method = "GET");

}  // namespace bg::test

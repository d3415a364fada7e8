// HttpServer: a small HTTP/1.1 server (Boost.Beast) for the agent's operational endpoints.
//
// It runs its sockets on a thread of its own, never on the agent's event loop, so that a probe
// can tell that the loop is stuck (a server on a stuck loop could not answer at all), and so
// that no client, however slow or hostile, can take time from the loop. Handlers that need the
// agent's state post to the loop and answer from there (see HttpHandler).
//
// Bounded in every dimension a client controls:
//   - header and body size (431 and 413, then the connection is closed);
//   - concurrent connections: past `max_connections` a new connection gets a one-line 503 and is
//     closed at once;
//   - time: `request_timeout` runs from the first byte of a request until its response is
//     written, so a client that dribbles its request (slowloris) or never reads the response is
//     cut off by then; an idle keep-alive connection is closed after `idle_timeout`;
//   - a handler that has not answered within `handler_timeout` gets a 503 sent in its place;
//   - `max_requests_per_connection`, then "Connection: close".
// Malformed requests get 400, methods other than GET and HEAD 405 (with Allow), then the
// connection is closed. HEAD gets GET's headers without the body. Keep-alive and pipelining
// work within those limits.
//
// A unix socket is created with mode 0660 (a stale socket file nobody listens on is replaced;
// a live one is an error) and removed when the server stops.
//
// Thread safety: Start, Stop and the destructor from one thread; stats() and address() from any.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agent/core/status.h"
#include "agent/http/http_message.h"
#include "agent/http/listen_address.h"

namespace bg {

struct HttpServerOptions {
  ListenAddress listen;
  std::size_t max_connections = 64;
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 1024;
  std::chrono::milliseconds request_timeout{10000};
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds handler_timeout{5000};
  unsigned max_requests_per_connection = 1000;
};

// Counts since start, for the agent's metrics.
struct HttpServerStats {
  static constexpr std::array<int, 9> kCodes = {200, 400, 404, 405, 408, 413, 431, 500, 503};
  std::array<std::uint64_t, kCodes.size() + 1> responses{};  // by kCodes, then any other code
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;  // over max_connections
  std::uint64_t connections_open = 0;
  std::uint64_t deadline_closes = 0;  // connections closed by request_timeout or idle_timeout
};

class HttpServer {
 public:
  // Binds and listens, then serves on a thread of its own. Fails (nothing started) when the
  // address cannot be bound, naming it and why.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop(), then frees everything
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Stops serving: the listener and every connection are closed and the thread joined; no
  // handler is called afterwards. Idempotent.
  void Stop();

  // Where it listens, with the port resolved ("127.0.0.1:41234", "unix:/run/x.sock").
  const std::string& address() const;
  HttpServerStats stats() const;

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bg

// What the HTTP server hands a handler and what a handler answers: deliberately small, so that
// handlers never see Beast (its headers stay inside agent/http/*.cpp).
//
// Thread safety: values. An HttpResponder may be called from any thread, once; later calls, and
// calls after the connection is gone, are ignored.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace bg {

struct HttpRequest {
  std::string method;  // "GET" or "HEAD": the server answers every other method itself (405)
  std::string path;    // the target up to '?', e.g. "/metrics"
  std::string query;   // after '?', raw
  std::string accept;  // the Accept header, "" when absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra ones
  // When set, called on the server's thread to make the body (replacing `body`), so that a
  // handler answering from a busy thread (the agent's loop) can leave the rendering to the
  // server.
  std::function<std::string()> render_body;

  static HttpResponse Text(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
  }
  static HttpResponse Json(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = std::move(body);
    return r;
  }
};

using HttpResponder = std::function<void(HttpResponse)>;
// Called on the server's thread for each GET or HEAD request; answers through `respond`, now or
// later, from any thread. Must not block: the server's thread serves every connection.
using HttpHandler = std::function<void(const HttpRequest& request, HttpResponder respond)>;

}  // namespace bg

// HttpSession<Socket>: one client connection of HttpServer (internal to agent/http; see
// http_server.h for the limits it enforces). A template over the socket type: TCP and unix
// stream sockets are served by the same code.
//
// Life of a connection: wait (idle_timeout) for the first byte of a request -> read it under the
// request deadline (request_timeout, from that first byte to the end of the response) -> GET or
// HEAD goes to the handler (handler_timeout, else 503) -> write the response -> keep-alive: wait
// for the next request; otherwise, or after an error response, shut down our side, read what
// the client still sends for a moment (so that it sees our answer rather than a reset), close.
//
// Thread safety: everything runs on the server's thread; replies from other threads arrive
// through the PostGate.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <optional>
#include <string>

#include "agent/http/http_server_core.h"

namespace bg {

template <typename Socket>
class HttpSession : public std::enable_shared_from_this<HttpSession<Socket>> {
 public:
  using ErrorCode = boost::system::error_code;

  HttpSession(Socket socket, std::shared_ptr<HttpServerCore> core)
      : socket_(std::move(socket)),
        core_(std::move(core)),
        timer_(socket_.get_executor()),
        handler_timer_(socket_.get_executor()),
        buffer_(core_->options.max_header_bytes + core_->options.max_body_bytes + 4096) {
    ++core_->open;
  }
  ~HttpSession() { --core_->open; }
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  void Start() { WaitForRequest(); }

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  std::shared_ptr<HttpSession> Self() { return this->shared_from_this(); }

  // Closes the connection when `after` passes, unless re-armed first.
  void ArmDeadline(std::chrono::milliseconds after, bool counts) {
    const unsigned generation = ++deadline_generation_;
    timer_.expires_after(after);
    timer_.async_wait([self = Self(), generation, counts](const ErrorCode& ec) {
      if (ec || generation != self->deadline_generation_ || self->closed_) return;
      if (counts) ++self->core_->deadline_closes;
      self->Close();
    });
  }

  void WaitForRequest() {
    if (buffer_.size() > 0) {  // a pipelined request is already here
      ReadRequest();
      return;
    }
    ArmDeadline(core_->options.idle_timeout, true);
    socket_.async_wait(Socket::wait_read, [self = Self()](const ErrorCode& ec) {
      if (self->closed_) return;
      if (ec) {
        self->Close();
        return;
      }
      self->ReadRequest();
    });
  }

  void ReadRequest() {
    ArmDeadline(core_->options.request_timeout, true);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_->options.max_header_bytes));
    parser_->body_limit(static_cast<std::uint64_t>(core_->options.max_body_bytes));
    boost::beast::http::async_read(socket_, buffer_, *parser_,
                                   [self = Self()](const ErrorCode& ec, std::size_t) {
                                     self->OnRead(ec);
                                   });
  }

  void OnRead(const ErrorCode& ec) {
    namespace http = boost::beast::http;
    if (closed_) return;
    if (!ec) {
      Dispatch();
      return;
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      RespondError(431, "request header too large\n");
    } else if (ec == http::error::body_limit) {
      RespondError(413, "request body too large\n");
    } else if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
               ec != http::error::end_of_stream && ec != http::error::partial_message) {
      RespondError(400, "malformed request: " + ec.message() + "\n");
    } else {
      Close();  // the client went away (end of stream, reset), or the deadline closed us
    }
  }

  void Dispatch() {
    namespace http = boost::beast::http;
    ++requests_;
    const Request& req = parser_->get();
    version_ = req.version();
    head_ = req.method() == http::verb::head;
    keep_alive_ = req.keep_alive() && requests_ < core_->options.max_requests_per_connection;
    if (req.method() != http::verb::get && !head_) {
      HttpResponse r = HttpResponse::Text(405, "method not allowed: this endpoint serves GET and HEAD\n");
      r.headers.emplace_back("Allow", "GET, HEAD");
      keep_alive_ = false;
      Respond(std::move(r));
      return;
    }
    const std::string target(req.target());
    if (target.empty() || target[0] != '/') {
      RespondError(400, "malformed request: the target must be a path\n");
      return;
    }
    HttpRequest request;
    request.method = head_ ? "HEAD" : "GET";
    const std::size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) request.query = target.substr(q + 1);
    request.accept = std::string(req[http::field::accept]);

    const unsigned id = ++pending_;
    answered_ = false;
    handler_timer_.expires_after(core_->options.handler_timeout);
    handler_timer_.async_wait([self = Self(), id](const ErrorCode& ec) {
      if (!ec) self->OnReply(id, HttpResponse::Text(503, "the agent did not answer in time\n"));
    });
    std::weak_ptr<HttpSession> weak = Self();
    core_->handler(request, [weak, id, gate = core_->gate](HttpResponse r) {
      gate->Post([weak, id, r = std::move(r)]() mutable {
        if (auto self = weak.lock()) self->OnReply(id, std::move(r));
      });
    });
  }

  void OnReply(unsigned id, HttpResponse r) {
    if (closed_ || answered_ || id != pending_) return;
    answered_ = true;
    handler_timer_.cancel();
    Respond(std::move(r));
  }

  void RespondError(int status, std::string body) {
    keep_alive_ = false;
    head_ = false;
    Respond(HttpResponse::Text(status, std::move(body)));
  }

  void Respond(HttpResponse r) {
    namespace http = boost::beast::http;
    auto res = std::make_shared<Response>();
    res->version(version_ == 10 ? 10 : 11);
    res->result(static_cast<unsigned>(r.status));
    res->set(http::field::server, "bundlegate");
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->body() = r.render_body ? r.render_body() : std::move(r.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    if (head_) res->body().clear();  // GET's headers, Content-Length included; no body
    core_->CountResponse(r.status);
    const bool keep = keep_alive_;
    http::async_write(socket_, *res, [self = Self(), res, keep](const ErrorCode& ec, std::size_t) {
      self->OnWritten(ec, keep);
    });
  }

  void OnWritten(const ErrorCode& ec, bool keep) {
    if (closed_) return;
    if (ec) {
      Close();
      return;
    }
    if (!keep) {
      Linger();
      return;
    }
    parser_.reset();
    WaitForRequest();
  }

  // Half-close, then read (and drop) what the client still sends, briefly, so that closing
  // with unread data does not reset the connection before the client has read our answer.
  void Linger() {
    ErrorCode ignored;
    socket_.shutdown(Socket::shutdown_send, ignored);
    ArmDeadline(std::min(core_->options.request_timeout, std::chrono::milliseconds(2000)), false);
    Drain();
  }

  void Drain() {
    socket_.async_read_some(boost::asio::buffer(drain_),
                            [self = Self()](const ErrorCode& ec, std::size_t n) {
                              self->drained_ += n;
                              if (ec || self->closed_ || self->drained_ > 64 * 1024) {
                                self->Close();
                                return;
                              }
                              self->Drain();
                            });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    ErrorCode ignored;
    timer_.cancel();
    handler_timer_.cancel();
    socket_.close(ignored);
  }

  Socket socket_;
  std::shared_ptr<HttpServerCore> core_;
  boost::asio::steady_timer timer_;          // idle wait, request deadline, linger
  boost::asio::steady_timer handler_timer_;  // the handler's answer
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::array<char, 4096> drain_{};
  std::size_t drained_ = 0;
  unsigned deadline_generation_ = 0;
  unsigned pending_ = 0;  // the request a reply must name to be taken
  unsigned requests_ = 0;
  unsigned version_ = 11;
  bool head_ = false;
  bool keep_alive_ = false;
  bool answered_ = true;
  bool closed_ = false;
};

}  // namespace bg

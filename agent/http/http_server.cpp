#include "agent/http/http_server.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <thread>

#include "agent/http/http_session.h"

namespace bg {
namespace {

using ErrorCode = boost::system::error_code;

void SetCloexec(int fd) {
  const int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void Accept() = 0;
  virtual void Close() = 0;
};

// Accepts connections and gives each a session, within max_connections.
template <typename Protocol>
class ListenerOf : public Listener {
 public:
  using Acceptor = typename Protocol::acceptor;
  using Socket = typename Protocol::socket;

  ListenerOf(Acceptor acceptor, std::shared_ptr<HttpServerCore> core)
      : acceptor_(std::move(acceptor)), core_(std::move(core)), backoff_(acceptor_.get_executor()) {}

  void Accept() override {
    acceptor_.async_accept([this](const ErrorCode& ec, Socket socket) {
      if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        // Out of descriptors or memory: do not spin; try again shortly.
        spdlog::warn("http: accept failed: {}", ec.message());
        backoff_.expires_after(std::chrono::milliseconds(100));
        backoff_.async_wait([this](const ErrorCode& e) {
          if (!e) Accept();
        });
        return;
      }
      SetCloexec(socket.native_handle());
      if (core_->open.load() >= core_->options.max_connections) {
        Refuse(std::move(socket));
      } else {
        ++core_->accepted;
        std::make_shared<HttpSession<Socket>>(std::move(socket), core_)->Start();
      }
      Accept();
    });
  }

  void Close() override {
    ErrorCode ignored;
    backoff_.cancel();
    acceptor_.close(ignored);
  }

 private:
  // One non-blocking attempt to say why, then close: a refused client never costs a wait.
  void Refuse(Socket socket) {
    static constexpr char kBusy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
        "Connection: close\r\n\r\ntoo many connections\n";
    ++core_->refused;
    core_->CountResponse(503);
    ErrorCode ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(boost::asio::buffer(kBusy, sizeof kBusy - 1), ignored);
    socket.shutdown(Socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  Acceptor acceptor_;
  std::shared_ptr<HttpServerCore> core_;
  boost::asio::steady_timer backoff_;
};

Result<std::unique_ptr<Listener>> ListenTcp(boost::asio::io_context& io, const ListenAddress& at,
                                            const std::shared_ptr<HttpServerCore>& core,
                                            std::string* address) {
  using boost::asio::ip::tcp;
  ErrorCode ec;
  const auto ip = boost::asio::ip::make_address(at.host, ec);
  if (ec) return Status::Error("http: cannot listen on " + at.ToString() + ": " + ec.message());
  const tcp::endpoint endpoint(ip, at.port);
  tcp::acceptor acceptor(io);
  const auto fail = [&](const char* step) {
    return Status::Error("http: cannot listen on " + at.ToString() + " (" + step + "): " +
                         ec.message());
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("socket");
  SetCloexec(acceptor.native_handle());
  if (acceptor.set_option(tcp::acceptor::reuse_address(true), ec)) return fail("SO_REUSEADDR");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(128, ec)) return fail("listen");
  const tcp::endpoint bound = acceptor.local_endpoint(ec);
  ListenAddress resolved = at;
  if (!ec) resolved.port = bound.port();
  *address = resolved.ToString();
  return std::unique_ptr<Listener>(std::make_unique<ListenerOf<tcp>>(std::move(acceptor), core));
}

// A socket file left by an agent that died is replaced; one that answers is someone else's.
Status ClearStaleSocket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Status::Ok();
  if (!S_ISSOCK(st.st_mode)) {
    return Status::Error("http: cannot listen on unix:" + path + ": it exists and is not a socket");
  }
  boost::asio::io_context probe_io;
  boost::asio::local::stream_protocol::socket probe(probe_io);
  ErrorCode ec;
  probe.connect(boost::asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) {
    return Status::Error("http: cannot listen on unix:" + path +
                         ": another process is listening there");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return Status::Error("http: cannot replace the stale socket unix:" + path + ": " +
                         std::strerror(errno));
  }
  return Status::Ok();
}

Result<std::unique_ptr<Listener>> ListenUnix(boost::asio::io_context& io, const ListenAddress& at,
                                             const std::shared_ptr<HttpServerCore>& core,
                                             std::string* address) {
  using boost::asio::local::stream_protocol;
  BG_RETURN_IF_ERROR(ClearStaleSocket(at.path));
  ErrorCode ec;
  stream_protocol::acceptor acceptor(io);
  const auto fail = [&](const char* step) {
    return Status::Error("http: cannot listen on " + at.ToString() + " (" + step + "): " +
                         ec.message());
  };
  if (acceptor.open(stream_protocol(), ec)) return fail("socket");
  SetCloexec(acceptor.native_handle());
  if (acceptor.bind(stream_protocol::endpoint(at.path), ec)) return fail("bind");
  if (::chmod(at.path.c_str(), 0660) != 0) {
    ec = ErrorCode(errno, boost::system::system_category());
    return fail("chmod");
  }
  if (acceptor.listen(128, ec)) return fail("listen");
  *address = at.ToString();
  return std::unique_ptr<Listener>(
      std::make_unique<ListenerOf<stream_protocol>>(std::move(acceptor), core));
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions options, HttpHandler handler)
      : core(std::make_shared<HttpServerCore>(std::move(options), std::move(handler), io)) {}

  boost::asio::io_context io{1};
  std::shared_ptr<HttpServerCore> core;
  std::unique_ptr<Listener> listener;
  std::thread thread;
  std::string address;
  std::string unix_path;  // removed at Stop
  bool stopped = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpHandler handler) {
  auto impl = std::make_unique<Impl>(options, std::move(handler));
  const ListenAddress& at = options.listen;
  if (at.off()) return Status::Error("http: no listen address");
  auto listener = at.kind == ListenAddress::Kind::kUnix
                      ? ListenUnix(impl->io, at, impl->core, &impl->address)
                      : ListenTcp(impl->io, at, impl->core, &impl->address);
  if (!listener.ok()) return listener.status();
  impl->listener = std::move(listener).value();
  if (at.kind == ListenAddress::Kind::kUnix) impl->unix_path = at.path;
  impl->listener->Accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    auto guard = boost::asio::make_work_guard(raw->io);
    for (;;) {
      try {
        raw->io.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http: {} (the server goes on)", e.what());
      }
    }
  });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() {
  Stop();
  // Connections still held by pending handlers are freed with the io_context, before the rest.
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->core->gate->Close();
  boost::asio::post(impl_->io, [impl = impl_.get()] { impl->listener->Close(); });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->listener->Close();
  if (!impl_->unix_path.empty()) ::unlink(impl_->unix_path.c_str());
}

const std::string& HttpServer::address() const { return impl_->address; }

HttpServerStats HttpServer::stats() const {
  HttpServerStats s;
  for (std::size_t i = 0; i < s.responses.size(); ++i) s.responses[i] = impl_->core->responses[i].load();
  s.connections_accepted = impl_->core->accepted.load();
  s.connections_refused = impl_->core->refused.load();
  s.connections_open = impl_->core->open.load();
  s.deadline_closes = impl_->core->deadline_closes.load();
  return s;
}

}  // namespace bg

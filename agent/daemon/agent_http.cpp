// Agent: the HTTP endpoint (see agent.h and http/http_server.h).
//
//   /metrics  on the loop: the families (agent_gauges.cpp); rendered on the server's thread in
//             the format the scraper asked for (metrics/exposition.h)
//   /healthz  on the server's thread: the loop heartbeat, never the loop itself, so that a stuck
//             loop reads as unhealthy (503) instead of as a hung probe
//   /readyz   on the loop: the readiness conditions (agent_readiness.cpp); 200 or 503
//   /status   on the loop, then the probe thread: CollectStatus, as `bundlegate status --json`
// The server's handler_timeout is liveness_timeout_s: a loop that does not answer within it
// gets a 503 in its place.
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "agent/daemon/agent_impl.h"
#include "agent/daemon/status_report.h"
#include "agent/http/http_routes.h"
#include "agent/metrics/exposition.h"

namespace bg {
namespace {

HttpResponse HealthResponse(const LoopHeartbeat::Reading& r) {
  Json body = {{"healthy", r.healthy},
               {"loop_lag_seconds", r.last_lag_seconds},
               {"deadline_seconds", r.deadline_seconds}};
  if (!r.healthy) {
    char why[160];
    std::snprintf(why, sizeof why, "the event loop has not answered for %.1f s (deadline %.0f s)",
                  r.waiting_seconds, r.deadline_seconds);
    body["why"] = why;
  }
  return HttpResponse::Json(r.healthy ? 200 : 503, DumpJson(body) + "\n");
}

}  // namespace

Agent::Impl::~Impl() { StopHttp(); }

Status Agent::Impl::StartHttp() {
  const HttpConfig& h = config_.http;
  if (h.listen.off()) return Status::Ok();
  HttpServerOptions options;
  options.listen = h.listen;
  options.max_connections = static_cast<std::size_t>(h.max_connections);
  options.max_header_bytes = static_cast<std::size_t>(h.max_header_bytes);
  options.max_body_bytes = static_cast<std::size_t>(h.max_body_bytes);
  options.request_timeout = std::chrono::seconds(h.request_timeout_s);
  options.idle_timeout = std::chrono::seconds(h.idle_timeout_s);
  options.handler_timeout = std::chrono::seconds(h.liveness_timeout_s);

  const auto deadline = std::chrono::milliseconds(h.liveness_timeout_s * 1000);
  const auto period = std::clamp(deadline / 5, std::chrono::milliseconds(50),
                                 std::chrono::milliseconds(1000));
  heartbeat_ = std::make_unique<LoopHeartbeat>(loop_, period, deadline);

  HttpRoutes routes;
  routes.Add("/metrics", "Prometheus metrics (OpenMetrics when the Accept header asks for it)",
             [this](const HttpRequest& request, HttpResponder respond) {
               boost::asio::post(loop_, [this, request, respond = std::move(respond)] {
                 ServeMetrics(request, respond);
               });
             });
  routes.Add("/healthz", "liveness: the event loop answers (200) or not (503)",
             [this](const HttpRequest&, HttpResponder respond) {
               respond(HealthResponse(heartbeat_->Read()));
             });
  routes.Add("/readyz", "readiness: recovered, inbox watched, audit writable, disk (200 or 503)",
             [this](const HttpRequest&, HttpResponder respond) {
               boost::asio::post(loop_, [this, respond = std::move(respond)] {
                 const auto conditions = Readiness();
                 respond(HttpResponse::Json(AllReady(conditions) ? 200 : 503,
                                            DumpJson(ReadinessJson(conditions)) + "\n"));
               });
             });
  routes.Add("/status", "what `bundlegate status --json` prints",
             [this](const HttpRequest&, HttpResponder respond) {
               boost::asio::post(loop_, [this, respond = std::move(respond)] {
                 ServeStatus(respond);
               });
             });
  auto server = HttpServer::Start(options, routes.Handler());
  if (!server.ok()) {
    heartbeat_.reset();
    return server.status();
  }
  http_ = std::move(server).value();
  spdlog::info("http: /metrics, /healthz, /readyz and /status on {}", http_->address());
  return Status::Ok();
}

void Agent::Impl::StopHttp() {
  if (http_) http_->Stop();  // no handler runs after this
  http_.reset();
  heartbeat_.reset();
}

void Agent::Impl::ServeMetrics(const HttpRequest& request, HttpResponder respond) {
  const Exposition exposition = NegotiateExposition(request.accept);
  HttpResponse r;
  r.content_type = exposition.content_type;
  r.render_body = [format = exposition.format,
                   families = std::make_shared<std::vector<MetricFamily>>(CollectMetrics())] {
    return WriteExposition(format, *families);
  };
  respond(std::move(r));
}

void Agent::Impl::ServeStatus(HttpResponder respond) {
  // The listing of inbox/, work/, quarantine/ and serving/ is filesystem work: off the loop.
  boost::asio::post(*probe_pool_, [config = config_, agent = StatusJson(), respond] {
    respond(HttpResponse::Json(200, DumpJson(CollectStatus(config, agent), 2) + "\n"));
  });
}

}  // namespace bg

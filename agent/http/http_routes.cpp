#include "agent/http/http_routes.h"

namespace bg {

void HttpRoutes::Add(std::string path, std::string help, HttpHandler handler) {
  routes_[std::move(path)] = Route{std::move(help), std::move(handler)};
}

HttpHandler HttpRoutes::Handler() const {
  auto routes = std::make_shared<const std::map<std::string, Route>>(routes_);
  std::string index = "bundlegate\n\n";
  for (const auto& [path, route] : routes_) index += path + "\t" + route.help + "\n";
  return [routes, index](const HttpRequest& request, HttpResponder respond) {
    const auto it = routes->find(request.path);
    if (it != routes->end()) {
      it->second.handler(request, std::move(respond));
    } else if (request.path == "/") {
      respond(HttpResponse::Text(200, index));
    } else {
      respond(HttpResponse::Text(404, "not found: " + request.path.substr(0, 200) +
                                          " (try /metrics, /healthz, /readyz or /status)\n"));
    }
  };
}

}  // namespace bg

// HttpRoutes: which handler serves which path. Unknown paths get 404; "/" lists the paths.
//
// Thread safety: build the table, then call Handler(); the handler it returns is immutable and
// may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "agent/http/http_message.h"

namespace bg {

class HttpRoutes {
 public:
  // `path` is matched exactly ("/metrics"); `help` is its line on the index page.
  void Add(std::string path, std::string help, HttpHandler handler);
  HttpHandler Handler() const;

 private:
  struct Route {
    std::string help;
    HttpHandler handler;
  };
  std::map<std::string, Route> routes_;
};

}  // namespace bg

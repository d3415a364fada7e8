// ResultChannel: keeps the plugin's stdout for its one result and nothing else.
//
// Libraries print: LibTorch warnings, OpenMP notices, a stray std::cout. Any of that on stdout
// would corrupt the protocol (the agent reads exactly one JSON object there). Open() therefore
// moves the real stdout to a private descriptor and points descriptor 1 at stderr, so that
// whatever anyone prints lands in the agent's log, and only Write() reaches the real stdout.
// Call Open() first thing in main, before anything can print.
//
// Thread safety: Open() once, before threads start; Write() from one thread.
#pragma once

#include "plugins/sdk/result.h"
#include "plugins/sdk/status.h"
#include "plugins/sdk/unique_fd.h"

namespace bg::sdk {

class ResultChannel {
 public:
  static Result<ResultChannel> Open();

  // Writes `text` and a newline to the real stdout, retrying short writes.
  Status WriteLine(const std::string& text);
  // Writes result.ToJson() as one line.
  Status Write(const PluginResult& result);
  // The real stdout (serve.h writes its responses there).
  int fd() const { return fd_.get(); }

 private:
  explicit ResultChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace bg::sdk

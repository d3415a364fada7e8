#include "plugins/sdk/result_channel.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>

namespace bg::sdk {

Result<ResultChannel> ResultChannel::Open() {
  std::cout.flush();
  std::fflush(stdout);
  const int saved = ::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (saved < 0) return Status::Error(std::string("duplicating stdout: ") + std::strerror(errno));
  if (::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    const int err = errno;
    ::close(saved);
    return Status::Error(std::string("redirecting stdout to stderr: ") + std::strerror(err));
  }
  return ResultChannel(UniqueFd(saved));
}

Status ResultChannel::WriteLine(const std::string& text) {
  const std::string line = text + "\n";
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::Error(std::string("writing the result: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status ResultChannel::Write(const PluginResult& result) {
  return WriteLine(DumpJson(result.ToJson()));
}

}  // namespace bg::sdk

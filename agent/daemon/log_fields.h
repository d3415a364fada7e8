// Structured fields for log lines: while a ScopedLogFields is alive, every line this thread
// logs carries its fields to journald (journal_sink.h), e.g. BUNDLEGATE_REASON=parity-mismatch
// on a rejection's line. Elsewhere (a terminal, a file) the fields are not printed: the line's
// text already says the same for a human.
//
// Thread safety: the fields are per thread (spdlog's loggers here are synchronous, so a line is
// written on the thread that logged it, inside the scope).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace bg {

using LogField = std::pair<std::string, std::string>;  // name ([A-Z0-9_], no leading '_'), value
using LogFields = std::vector<LogField>;

class ScopedLogFields {
 public:
  explicit ScopedLogFields(LogFields fields);
  ~ScopedLogFields();
  ScopedLogFields(const ScopedLogFields&) = delete;
  ScopedLogFields& operator=(const ScopedLogFields&) = delete;

 private:
  LogFields fields_;
};

// The fields of every scope alive on this thread, outermost first.
LogFields CurrentLogFields();

}  // namespace bg

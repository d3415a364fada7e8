#include "agent/daemon/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ansicolor_sink.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "agent/daemon/journal_sink.h"

namespace bg {
namespace {

// sd-daemon(3) priority prefixes: <3> err, <4> warning, <6> info, <7> debug.
class JournalPrefixSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fprintf(stderr, "<%d>", SyslogPriority(static_cast<int>(msg.level)));
    std::fwrite(formatted.data(), 1, formatted.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

bool StderrIsJournal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long dev = 0, ino = 0;
  if (std::sscanf(stream, "%lu:%lu", &dev, &ino) != 2) return false;
  struct stat st;
  return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void SetupLogging(const std::string& level, LogConfig::Journal journal) {
  std::shared_ptr<spdlog::logger> logger;
  const bool journald = journal == LogConfig::Journal::kOn ||
                        (journal == LogConfig::Journal::kAuto && StderrIsJournal());
  if (journald) {
    logger = std::make_shared<spdlog::logger>("bundlegate", MakeJournalSink());
  } else if (StderrIsJournal()) {
    auto sink = std::make_shared<JournalPrefixSink>();
    sink->set_pattern("%v");
    logger = std::make_shared<spdlog::logger>("bundlegate", sink);
  } else if (::isatty(STDERR_FILENO)) {
    auto sink = std::make_shared<spdlog::sinks::ansicolor_stderr_sink_mt>();
    sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    logger = std::make_shared<spdlog::logger>("bundlegate", sink);
  } else {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %-5l %v");
    logger = std::make_shared<spdlog::logger>("bundlegate", sink);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace bg

#include "agent/daemon/journal_sink.h"

#include <sys/uio.h>
#include <unistd.h>
// The location would always be this file: leave CODE_FILE/CODE_LINE/CODE_FUNC out.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <systemd/sd-journal.h>

#include <cstdio>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <string>
#include <vector>

#include "agent/daemon/log_fields.h"
#include "agent/daemon/logging.h"

namespace bg {
namespace {

// sd_journal_sendv(3) returns success when this socket is missing (it drops the record, by
// design): look first, so that a line nobody would read goes to stderr instead.
constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

class JournalSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::string text(formatted.data(), formatted.size());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    const int priority = SyslogPriority(static_cast<int>(msg.level));

    std::vector<std::string> lines = {"MESSAGE=" + text, "PRIORITY=" + std::to_string(priority),
                                      "SYSLOG_IDENTIFIER=bundlegate"};
    for (const auto& [name, value] : CurrentLogFields()) lines.push_back(name + "=" + value);
    std::vector<iovec> iov;
    iov.reserve(lines.size());
    for (auto& line : lines) iov.push_back({line.data(), line.size()});
    if (::access(kJournalSocket, F_OK) == 0 &&
        sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) {
      return;
    }

    if (StderrIsJournal()) std::fprintf(stderr, "<%d>", priority);
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fputc('\n', stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

int SyslogPriority(int spdlog_level) {
  switch (static_cast<spdlog::level::level_enum>(spdlog_level)) {
    case spdlog::level::critical: return 2;
    case spdlog::level::err: return 3;
    case spdlog::level::warn: return 4;
    case spdlog::level::info: return 6;
    default: return 7;
  }
}

std::shared_ptr<spdlog::sinks::sink> MakeJournalSink() {
  auto sink = std::make_shared<JournalSink>();
  sink->set_pattern("%v");
  return sink;
}

}  // namespace bg

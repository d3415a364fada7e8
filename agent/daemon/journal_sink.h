// JournalSink: spdlog lines as native journald records (sd_journal_sendv), so that they keep
// their priority and carry structured fields:
//   MESSAGE=<the line>  PRIORITY=<syslog level>  SYSLOG_IDENTIFIER=bundlegate
//   plus the fields of the ScopedLogFields alive on the logging thread (log_fields.h).
// A record journald does not take (no journal socket: not under systemd after all; a send that
// fails) is written to stderr instead, with an sd-daemon "<N>" prefix when stderr is the
// journal stream.
//
// Thread safety: spdlog's base_sink serializes calls with its mutex.
#pragma once

#include <memory>

#include <spdlog/sinks/sink.h>

namespace bg {

std::shared_ptr<spdlog::sinks::sink> MakeJournalSink();

// The syslog priority journald records for an spdlog level (err 3, warning 4, info 6, debug 7).
int SyslogPriority(int spdlog_level);

}  // namespace bg

// Logging for the agent and the CLI: spdlog to stderr, or to journald.
//   - to journald, as native records with structured fields (journal_sink.h), when `journal` is
//     kOn, or kAuto and JOURNAL_STREAM names our stderr (the agent under systemd);
//   - under systemd with journal kOff: each line on stderr prefixed "<N>" with its syslog
//     priority, which journald reads as the record's priority; no timestamp (journald has one);
//   - on a terminal: timestamps and colored levels;
//   - otherwise (a pipe, a file): timestamps, no colors.
#pragma once

#include <string>

#include "agent/config/config.h"

namespace bg {

void SetupLogging(const std::string& level, LogConfig::Journal journal = LogConfig::Journal::kOff);
// Whether stderr is the journal stream systemd gave us.
bool StderrIsJournal();

}  // namespace bg

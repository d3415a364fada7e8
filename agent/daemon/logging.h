// Logging for the agent and the CLI: spdlog to stderr.
//   - under systemd (JOURNAL_STREAM names our stderr): each line prefixed "<N>" with its syslog
//     priority, which journald reads as the record's priority; no timestamp (journald has one);
//   - on a terminal: timestamps and colored levels;
//   - otherwise (a pipe, a file): timestamps, no colors.
#pragma once

#include <string>

namespace bg {

void SetupLogging(const std::string& level);
// Whether stderr is the journal stream systemd gave us.
bool StderrIsJournal();

}  // namespace bg

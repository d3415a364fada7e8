// The audit record's shape (SPEC.md, "Audit log"): the four fields every line starts with
// (seq, time, event, prev), how a line is hashed into the next line's `prev`, and the parsing
// that appending, verifying and reading share.
//
// Thread safety: pure functions; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

// The `prev` of the first line: there is no previous line.
inline constexpr std::string_view kAuditGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Hex SHA-256 of a line's bytes without its "\n": what the next line carries as `prev`.
std::string AuditLineHash(std::string_view line);

// {"seq","time","event","prev", then `fields` in their order}. Fails when `event` is empty, or
// `fields` is neither null nor an object, or sets one of the four reserved keys.
Result<Json> MakeAuditRecord(std::uint64_t seq, const std::string& time, std::string_view event,
                             const std::string& prev, const Json& fields);

// How deep an audit line may nest: twice what a plugin's result may (64), for the record
// around it.
inline constexpr std::size_t kMaxAuditLineDepth = 128;

// Parses one line; nullopt unless it is a JSON object nested at most kMaxAuditLineDepth deep
// (checked before parsing, without recursion: bounded_json.h). Never throws.
std::optional<Json> ParseAuditLine(std::string_view line);

// The record's `seq` when it is a positive integer, else nullopt.
std::optional<std::uint64_t> AuditSeq(const Json& record);

// True for an RFC 3339 date-time: "2026-11-28T10:00:00Z", with an optional fraction of a second
// and a "Z" or numeric ("+02:00") offset.
bool IsRfc3339(std::string_view s);

}  // namespace bg

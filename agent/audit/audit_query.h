// Reading audit records for people and scripts: all of them, the newest few, those of one
// bundle. These read; they do not verify (see audit_verify.h) and skip lines that are not JSON
// objects, and a torn last line.
//
// Thread safety: reads only; safe from any thread, and while other processes append (each call
// reads the log as it was between two appends).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"

namespace bg {

// Every record, oldest first. Reads the whole log.
Result<std::vector<Json>> ReadAuditRecords(const std::string& path);

// The last `n` records, oldest first. Reads backward from the end: the cost depends on `n`, not
// on the length of the log.
Result<std::vector<Json>> TailAuditRecords(const std::string& path, std::size_t n);

// Every record whose "name" is `name` and, unless `version` is "", whose "version" is `version`,
// oldest first. Reads the whole log.
Result<std::vector<Json>> FindBundleRecords(const std::string& path, const std::string& name,
                                            const std::string& version);

// Where the log stood at one moment: its last seq and the file's identity. Recorded before a
// step that will append a record, so that "was this already recorded?" searches only what was
// appended since (FindAuditRecordSince), however long the log is.
struct AuditMark {
  std::uint64_t seq = 0;  // the last intact record's seq (0: empty log)
  std::uint64_t dev = 0, ino = 0;

  Json ToJson() const;
  static AuditMark FromJson(const Json& j);  // missing fields read as 0 (search everything)
};

// The mark of the log at `path` now. Reads its last line only.
Result<AuditMark> ReadAuditMark(const std::string& path);

// The newest record appended after `since` for which `match` holds, read backward from the end
// in bounded blocks: the cost (time and memory) depends on what was appended since, not on the
// length of the log. Lines that do not contain `needle` are skipped without being parsed (pass a
// literal that every matching line holds, such as an id). When the file at `path` is no longer
// the one marked (rotated), the whole current file is searched. nullopt: no such record.
Result<std::optional<Json>> FindAuditRecordSince(const std::string& path, const AuditMark& since,
                                                 std::string_view needle,
                                                 const std::function<bool(const Json&)>& match);

}  // namespace bg

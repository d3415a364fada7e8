// Reading audit records for people and scripts: all of them, the newest few, those of one
// bundle. These read; they do not verify (see audit_verify.h) and skip lines that are not JSON
// objects, and a torn last line.
//
// Thread safety: reads only; safe from any thread, and while other processes append (each call
// reads the log as it was between two appends).
#pragma once

#include <cstddef>
#include <string>
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

}  // namespace bg

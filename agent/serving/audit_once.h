// AuditOnce: append an audit record for a step unless that step's record is already in the log.
//
// Steps are redone after a crash, and the crash may have come just after the record was
// written. The step's record names an id (the intake id, a rollback id); the step recorded, in
// its journal, where the log stood before it (an AuditMark). So "already recorded?" reads the
// log backward from its end down to that mark, and no further: its cost is what was appended
// since, not the length of the log (a restart with a 100 MB log reads a few lines).
//
// Thread safety: as AuditLog::Append; calls for one id must be serialized by the caller.
#pragma once

#include <string>
#include <string_view>

#include "agent/audit/audit_log.h"
#include "agent/core/json.h"

namespace bg {

// The record of `event` whose field `id_key` is `id` and whose fields in `also` are equal, if
// one was appended after `since`; otherwise appends {event, fields} and returns that.
// `fields` must contain id_key = id and `also`.
Result<Json> AuditOnce(AuditLog& audit, const AuditMark& since, std::string_view event,
                       const std::string& id_key, const std::string& id, const Json& fields,
                       const Json& also = Json::object());

// The record of `event` with id_key = id appended after `since`, if any (no append).
Result<std::optional<Json>> FindAudited(const AuditLog& audit, const AuditMark& since,
                                        std::string_view event, const std::string& id_key,
                                        const std::string& id, const Json& also = Json::object());

}  // namespace bg

#include "agent/serving/audit_once.h"

namespace bg {

Result<std::optional<Json>> FindAudited(const AuditLog& audit, const AuditMark& since,
                                        std::string_view event, const std::string& id_key,
                                        const std::string& id, const Json& also) {
  return FindAuditRecordSince(audit.path(), since, id, [&](const Json& r) {
    if (r.value("event", "") != event || r.value(id_key, "") != id) return false;
    for (const auto& [key, value] : also.items()) {
      const auto it = r.find(key);
      if (it == r.end() || *it != value) return false;
    }
    return true;
  });
}

Result<Json> AuditOnce(AuditLog& audit, const AuditMark& since, std::string_view event,
                       const std::string& id_key, const std::string& id, const Json& fields,
                       const Json& also) {
  BG_ASSIGN_OR_RETURN(std::optional<Json> found, FindAudited(audit, since, event, id_key, id, also));
  if (found) return std::move(*found);
  return audit.Append(event, fields);
}

}  // namespace bg

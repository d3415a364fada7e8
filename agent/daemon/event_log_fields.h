// The journald fields of the agent's event lines, so that decisions can be queried by field:
//   journalctl -u bundlegate BUNDLEGATE_REASON=parity-mismatch
//   journalctl -u bundlegate MESSAGE_ID=e26646b21c314eeca1f0fe4937515765   (every rejection)
//
// A decision's line (promoted, rejected, or an identical re-drop: "noop") carries
//   MESSAGE_ID            fixed per event kind (below); never changes between versions
//   BUNDLEGATE_EVENT      promoted | rejected | noop
//   BUNDLEGATE_NAME       the manifest's name      } absent when the manifest gave none
//   BUNDLEGATE_VERSION    the manifest's version   }
//   BUNDLEGATE_REASON     the reason code (rejections only)
//   BUNDLEGATE_INTAKE_ID  the work id, as in the audit record ("intake_id")
//   BUNDLEGATE_INBOX_NAME the directory's name in the inbox
//   BUNDLEGATE_DIGEST     the bundle digest, when known
//   BUNDLEGATE_TARGET     where it went (serving/... or quarantine/...)
// The agent's start and stop lines carry MESSAGE_ID and BUNDLEGATE_EVENT (started, stopped).
//
// MESSAGE_IDs (128-bit, as journald writes them):
//   promoted  4eb01afc0d6f4fc2918fa799e09277b1
//   rejected  e26646b21c314eeca1f0fe4937515765
//   noop      7abbbf0f52d143e58244b052cf6b8d84
//   started   3102e830e4dc472b8f2290419e4cc53c
//   stopped   c5a9dd8f884d4afa8d1e23351f1b6caf
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "agent/daemon/log_fields.h"
#include "agent/intake/work_item.h"
#include "agent/serving/decision.h"

namespace bg {

// The MESSAGE_ID of an event kind above; "" for any other.
std::string_view MessageIdFor(std::string_view event);
// "promoted", "rejected" or "noop".
std::string_view DecisionEventName(const Decision& d);

LogFields DecisionLogFields(const WorkItem& item, const Decision& d);
LogFields LifecycleLogFields(std::string_view event);

}  // namespace bg

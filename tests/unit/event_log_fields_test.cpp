// The journald field set of decision lines (the journald integration test checks that they
// arrive; this one checks each event kind's fields and that MESSAGE_IDs never change).
#include <catch2/catch.hpp>
#include <map>

#include "agent/daemon/event_log_fields.h"

using namespace bg;

namespace {

std::map<std::string, std::string> AsMap(const LogFields& fields) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : fields) {
    CHECK(m.count(k) == 0);
    m[k] = v;
  }
  return m;
}

}  // namespace

TEST_CASE("decision fields per event kind, with fixed MESSAGE_IDs") {
  WorkItem item;
  item.id = "20261128T100000Z-42-1";
  item.inbox_name = "drop-1";
  Decision d;
  d.name = "fraud-scorer";
  d.version = "1.2.3";
  d.digest = std::string(64, 'a');
  d.target = "/var/lib/bundlegate/quarantine/fraud-scorer@1.2.3.x";
  d.reason = "parity-mismatch";

  d.action = Decision::Action::kQuarantine;
  auto f = AsMap(DecisionLogFields(item, d));
  CHECK(f["MESSAGE_ID"] == "e26646b21c314eeca1f0fe4937515765");
  CHECK(f["BUNDLEGATE_EVENT"] == "rejected");
  CHECK(f["BUNDLEGATE_NAME"] == "fraud-scorer");
  CHECK(f["BUNDLEGATE_VERSION"] == "1.2.3");
  CHECK(f["BUNDLEGATE_REASON"] == "parity-mismatch");
  CHECK(f["BUNDLEGATE_INTAKE_ID"] == item.id);
  CHECK(f["BUNDLEGATE_INBOX_NAME"] == "drop-1");
  CHECK(f["BUNDLEGATE_DIGEST"] == d.digest);
  CHECK(f["BUNDLEGATE_TARGET"] == d.target);

  d.action = Decision::Action::kPromote;
  f = AsMap(DecisionLogFields(item, d));
  CHECK(f["MESSAGE_ID"] == "4eb01afc0d6f4fc2918fa799e09277b1");
  CHECK(f["BUNDLEGATE_EVENT"] == "promoted");
  CHECK(f.count("BUNDLEGATE_REASON") == 0);

  d.action = Decision::Action::kNoop;
  f = AsMap(DecisionLogFields(item, d));
  CHECK(f["MESSAGE_ID"] == "7abbbf0f52d143e58244b052cf6b8d84");
  CHECK(f["BUNDLEGATE_EVENT"] == "noop");

  // A bundle without a readable manifest: no name or version fields, never empty ones.
  Decision unnamed;
  unnamed.reason = "manifest-invalid";
  f = AsMap(DecisionLogFields(item, unnamed));
  CHECK(f.count("BUNDLEGATE_NAME") == 0);
  CHECK(f.count("BUNDLEGATE_VERSION") == 0);
  CHECK(f["BUNDLEGATE_REASON"] == "manifest-invalid");

  CHECK(AsMap(LifecycleLogFields("started"))["MESSAGE_ID"] == "3102e830e4dc472b8f2290419e4cc53c");
  CHECK(AsMap(LifecycleLogFields("stopped"))["MESSAGE_ID"] == "c5a9dd8f884d4afa8d1e23351f1b6caf");
  // Field names journald accepts: upper case, digits, '_', not leading '_'.
  for (const auto& [name, value] : DecisionLogFields(item, d)) {
    CHECK(name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos);
    CHECK(name[0] != '_');
  }
}

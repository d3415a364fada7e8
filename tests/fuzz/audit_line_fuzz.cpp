// One line of audit.jsonl read back (verify, tail, show, restart): ParseAuditLine and the
// field readers applied to it.
#include "agent/audit/audit_record.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view line = bg::fuzz::Text(data, size);
  auto record = bg::ParseAuditLine(line);
  if (record) {
    (void)bg::AuditSeq(*record);
    if (record->contains("time") && (*record)["time"].is_string()) {
      (void)bg::IsRfc3339((*record)["time"].get<std::string>());
    }
    (void)bg::DumpJson(*record);
  }
  (void)bg::AuditLineHash(line);
  return 0;
}

#include "agent/intake/work_item.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "agent/core/clock.h"
#include "agent/core/hex.h"

namespace bg {

std::string NewWorkId() {
  static std::atomic<unsigned> counter{0};
  return CompactUtc(std::chrono::system_clock::now()) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

std::string NewArrivalKey() {
  static std::atomic<unsigned long> counter{0};
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  char key[48];
  std::snprintf(key, sizeof key, "%020lld-%09lu", static_cast<long long>(ns), counter.fetch_add(1));
  return key;
}

Json WorkItem::ToJson() const {
  Json j = {{"id", id},
            {"inbox_name", inbox_name},
            // The exact bytes: a name that is not UTF-8 would not survive JSON unchanged.
            {"inbox_name_hex", ToHex(reinterpret_cast<const std::uint8_t*>(inbox_name.data()),
                                     inbox_name.size())},
            {"mode", mode == IntakeMode::kCopy ? "copy" : "move"},
            {"received", received},
            {"claimed_at", claimed_at},
            {"arrival", arrival},
            {"snapshot_complete", snapshot_complete}};
  if (copied_by.is_object()) j["copied_by"] = copied_by;
  if (expired) {
    j["expired"] = true;
    j["why_incomplete"] = why_incomplete;
  }
  return j;
}

Result<WorkItem> WorkItem::FromJson(const Json& j) {
  try {
    WorkItem w;
    w.id = j.at("id").get<std::string>();
    w.inbox_name = j.at("inbox_name").get<std::string>();
    if (auto bytes = FromHex(j.value("inbox_name_hex", "")); bytes && !bytes->empty()) {
      w.inbox_name = *bytes;
    }
    w.mode = j.at("mode").get<std::string>() == "move" ? IntakeMode::kMove : IntakeMode::kCopy;
    w.received = j.at("received").get<std::string>();
    w.claimed_at = j.value("claimed_at", "");
    w.arrival = j.value("arrival", "");
    w.snapshot_complete = j.value("snapshot_complete", false);
    w.expired = j.value("expired", false);
    if (auto it = j.find("copied_by"); it != j.end() && it->is_object()) w.copied_by = *it;
    w.why_incomplete = j.value("why_incomplete", "");
    return w;
  } catch (const Json::exception& e) {
    return Status::Error(std::string("malformed intake record: ") + e.what());
  }
}

}  // namespace bg

// The settle state machine, driven with a manual clock: no threads, no sleeps.
#include <catch2/catch.hpp>

#include "agent/watch/settle_tracker.h"

using namespace bg;
using std::chrono::milliseconds;
using Obs = SettleTracker::Observation;
using D = SettleTracker::Decision;

namespace {

struct ManualClock {
  SettleTracker::TimePoint now{};
  void Advance(milliseconds d) { now += d; }
};

SettleTracker MakeTracker() {
  return SettleTracker({milliseconds(1000), std::chrono::seconds(60)});
}

Obs Complete(const std::string& fp) { return Obs{true, fp, ""}; }
Obs Incomplete(const std::string& fp, const std::string& why) { return Obs{false, fp, why}; }

}  // namespace

TEST_CASE("a bundle renamed in is probed at once and ready one settle time later") {
  ManualClock clock;
  auto t = MakeTracker();
  t.Touch("b", clock.now);
  REQUIRE(t.Due(clock.now) == std::vector<std::string>{"b"});
  CHECK(t.Observe("b", Complete("fp1"), clock.now) == D::kWait);
  CHECK(t.NextWakeup() == clock.now + milliseconds(1000));
  clock.Advance(milliseconds(999));
  CHECK(t.Due(clock.now).empty());
  clock.Advance(milliseconds(1));
  REQUIRE(t.Due(clock.now) == std::vector<std::string>{"b"});
  CHECK(t.Observe("b", Complete("fp1"), clock.now) == D::kReady);
  CHECK_FALSE(t.Tracks("b"));
}

TEST_CASE("events while settling push readiness back") {
  ManualClock clock;
  auto t = MakeTracker();
  t.Touch("b", clock.now);
  (void)t.Due(clock.now);
  t.Observe("b", Incomplete("fp0", "no bundle.toml yet"), clock.now);
  for (int i = 0; i < 5; ++i) {
    clock.Advance(milliseconds(400));
    t.Touch("b", clock.now);  // a producer copying file after file
  }
  CHECK(t.Due(clock.now).empty());
  clock.Advance(milliseconds(1000));
  REQUIRE(t.Due(clock.now) == std::vector<std::string>{"b"});
  // Changed since the last probe, but the events say when: quiet for a full settle time.
  CHECK(t.Observe("b", Complete("fp5"), clock.now) == D::kReady);
}

TEST_CASE("a change with no event (polling or a lost event) restarts settling") {
  ManualClock clock;
  auto t = MakeTracker();
  t.Touch("b", clock.now);
  (void)t.Due(clock.now);
  t.Observe("b", Complete("fp1"), clock.now);
  clock.Advance(milliseconds(1000));
  (void)t.Due(clock.now);
  CHECK(t.Observe("b", Complete("fp2"), clock.now) == D::kWait);
  clock.Advance(milliseconds(1000));
  REQUIRE(t.Due(clock.now) == std::vector<std::string>{"b"});
  CHECK(t.Observe("b", Complete("fp2"), clock.now) == D::kReady);
}

TEST_CASE("an incomplete bundle is never ready and expires after the timeout") {
  ManualClock clock;
  auto t = MakeTracker();
  t.Touch("b", clock.now);
  int probes = 0;
  D last = D::kWait;
  while (last == D::kWait && probes < 1000) {
    const auto next = t.NextWakeup();
    REQUIRE(next.has_value());
    clock.now = *next;
    REQUIRE(t.Due(clock.now).size() == 1);
    last = t.Observe("b", Incomplete("same", "waiting for model.pt"), clock.now);
    ++probes;
  }
  CHECK(last == D::kExpired);
  CHECK(clock.now - SettleTracker::TimePoint{} >= std::chrono::seconds(60));
  // Polling backs off: about one probe per settle time, not a tight loop.
  CHECK(probes <= 62);
}

TEST_CASE("a probe in flight is not handed out twice, and Forget drops an entry") {
  ManualClock clock;
  auto t = MakeTracker();
  t.Touch("a", clock.now);
  t.Touch("b", clock.now);
  CHECK(t.Due(clock.now).size() == 2);
  CHECK(t.Due(clock.now).empty());
  t.Forget("a");
  CHECK_FALSE(t.Tracks("a"));
  CHECK(t.Pending().size() == 1);
  CHECK(t.Pending().at("b") == "not probed yet");
}

TEST_CASE("settle time zero claims on the first complete probe") {
  ManualClock clock;
  SettleTracker t({milliseconds(0), std::chrono::seconds(60)});
  t.Touch("b", clock.now);
  (void)t.Due(clock.now);
  CHECK(t.Observe("b", Complete("fp"), clock.now) == D::kReady);
}

TEST_CASE("an unparsable manifest is claimed once the tree was quiet for manifest_grace") {
  ManualClock clock;
  SettleTracker t({milliseconds(1000), std::chrono::seconds(3600), std::chrono::seconds(10)});
  Obs typo{false, "fp1", "bundle.toml does not parse: bundle.toml:3:11: ...", true};
  t.Touch("b", clock.now);
  (void)t.Due(clock.now);
  CHECK(t.Observe("b", typo, clock.now) == D::kWait);
  // The producer is still at work: every change restarts the grace.
  clock.Advance(std::chrono::seconds(8));
  t.Touch("b", clock.now);
  clock.Advance(std::chrono::seconds(8));
  (void)t.Due(clock.now);
  CHECK(t.Observe("b", typo, clock.now) == D::kWait);
  REQUIRE(t.NextWakeup().has_value());
  CHECK(*t.NextWakeup() <= clock.now + std::chrono::seconds(2));
  clock.Advance(std::chrono::seconds(2));
  (void)t.Due(clock.now);
  CHECK(t.Observe("b", typo, clock.now) == D::kReady);
}

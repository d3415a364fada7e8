// serving/: the current-stack semantics behind rollback and retention, the atomic link swap, and
// the decision executor failing a step through an Env subclass (nothing lost, nothing half-done).
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/checks/pipeline.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/decision_executor.h"
#include "agent/serving/serving_layout.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

using namespace bg;
namespace fs = std::filesystem;

namespace {

HistoryEntry Promoted(const std::string& v) { return {"promoted", v, "", ""}; }
HistoryEntry Rolled(const std::string& v) { return {"rolled-back", v, "", ""}; }
HistoryEntry Added(const std::string& v) { return {"added", v, "", ""}; }

}  // namespace

TEST_CASE("the current stack: promotions push, rollbacks pop back") {
  using V = std::vector<std::string>;
  CHECK(CurrentStack({Promoted("1"), Promoted("2"), Promoted("3")}) == V{"1", "2", "3"});
  CHECK(CurrentStack({Promoted("1"), Promoted("2"), Promoted("3"), Rolled("2")}) == V{"1", "2"});
  CHECK(CurrentStack({Promoted("1"), Promoted("2"), Promoted("3"), Rolled("2"), Promoted("4")}) ==
        V{"1", "2", "4"});
  // Rolling forward to a version no longer on the stack pushes it.
  CHECK(CurrentStack({Promoted("1"), Promoted("2"), Rolled("1"), Rolled("2")}) == V{"1", "2"});
  // A re-promotion moves a version to the top; "added" versions never become current.
  CHECK(CurrentStack({Promoted("1"), Promoted("2"), Promoted("1")}) == V{"2", "1"});
  CHECK(CurrentStack({Promoted("2"), Added("1")}) == V{"2"});
  CHECK(PromotionOrder({Promoted("2"), Added("1"), Rolled("2")}) == V{"2", "1"});
}

TEST_CASE("arrival keys order claims and say which promotion made a version current") {
  const std::string a = NewArrivalKey();
  const std::string b = NewArrivalKey();
  CHECK(a < b);  // strictly increasing, even within one nanosecond tick
  std::vector<HistoryEntry> h = {{"promoted", "1", "t", a}, {"added", "2", "t", b}};
  CHECK(ArrivalOf(h, "1") == a);
  CHECK(ArrivalOf(h, "2") == std::nullopt);  // never made current
  CHECK(ArrivalOf(h, "3") == std::nullopt);
}

TEST_CASE("SwapCurrent replaces the link atomically and the history survives a torn line") {
  test::TempDir tmp;
  const ServingLayout layout{tmp / "serving", tmp / "quarantine"};
  fs::create_directories(layout.VersionDir("m", "1"));
  fs::create_directories(layout.VersionDir("m", "2"));
  REQUIRE(SwapCurrent(layout, "m", "1", Env::Default()).ok());
  CHECK(ReadCurrent(layout, "m") == "1");
  REQUIRE(SwapCurrent(layout, "m", "2", Env::Default()).ok());
  CHECK(ReadCurrent(layout, "m") == "2");
  REQUIRE(AppendHistory(layout, "m", Promoted("1"), Env::Default()).ok());
  test::AppendFile(layout.HistoryFile("m"), "{\"event\":\"prom");  // a crash mid-line
  REQUIRE(AppendHistory(layout, "m", Promoted("2"), Env::Default()).ok());
  const auto history = ReadHistory(layout, "m");
  REQUIRE(history.size() == 2);
  CHECK(history[1].version == "2");
  CHECK(VersionBeforeCurrent(layout, "m") == "1");
  // Appending the same entry twice (recovery redoing a step) is a no-op.
  REQUIRE(AppendHistory(layout, "m", Promoted("2"), Env::Default()).ok());
  CHECK(ReadHistory(layout, "m").size() == 2);
}

namespace {

// An Env whose rename into serving/ fails, as on a full or read-only filesystem.
class FailingRenameEnv : public Env {
 public:
  explicit FailingRenameEnv(std::string target) : target_(std::move(target)) {}
  Status Rename(const std::string& from, const std::string& to, RenameMode mode) override {
    if (to == target_) return Status::Error("rename " + from + ": No space left on device");
    return Env::Rename(from, to, mode);
  }

 private:
  std::string target_;
};

}  // namespace

TEST_CASE("a promotion whose rename fails leaves the bundle in work/ with its decision") {
  test::TempDir tmp;
  Config config = DefaultConfig(tmp / "root");
  for (const auto& d : {config.paths.inbox, config.paths.work, config.paths.serving,
                        config.paths.quarantine}) {
    fs::create_directories(d);
  }
  FailingRenameEnv env(config.paths.serving + "/test-model/1.0.0");
  auto audit = AuditLog::Open(config.paths.audit_log, env);
  REQUIRE(audit.ok());
  WorkArea work(config.paths, true, env);
  DecisionExecutor executor(config, work, **audit, env);

  test::WriteBundle(config.paths.inbox + "/b", test::BundleSpec{});
  auto item = work.Claim("b", IntakeMode::kMove);
  REQUIRE(item.ok());
  CheckPipeline::Options lax;
  lax.require_parity = false;
  const BundleReport report = CheckPipeline(lax, {}).Run(work.paths().Bundle(item->id));
  REQUIRE(report.passed);
  const Decision decision = DecideFromReport(*item, report, work.paths().Bundle(item->id),
                                             executor.layout());
  auto result = executor.Execute(*item, decision);
  REQUIRE_FALSE(result.ok());
  CHECK_THAT(result.status().message(), Catch::Contains("No space left"));
  // Nothing half-done: still in work/, decision recorded, nothing served, nothing audited.
  CHECK(IsDirectory(work.paths().Bundle(item->id)));
  CHECK(PathExists(work.paths().Decision(item->id)));
  CHECK_FALSE(PathExists(config.paths.serving + "/test-model/1.0.0"));
  CHECK(ReadAuditRecords(config.paths.audit_log)->empty());

  // Once the filesystem recovers, resuming finishes it, exactly once.
  DecisionExecutor healthy(config, work, **audit, Env::Default());
  auto resumed = healthy.Resume(*item);
  REQUIRE(resumed.ok());
  CHECK(resumed->record["event"] == "promoted");
  CHECK(IsDirectory(config.paths.serving + "/test-model/1.0.0"));
  CHECK_FALSE(PathExists(work.paths().Dir(item->id)));
  CHECK(ReadAuditRecords(config.paths.audit_log)->size() == 1);
}

// serving/: the current-stack semantics behind rollback and retention, the atomic link swap, and
// the decision executor failing a step through an Env subclass (nothing lost, nothing half-done).
#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/checks/pipeline.h"
#include "agent/core/tree_ops.h"
#include "agent/serving/decision_executor.h"
#include "agent/serving/journal.h"
#include "agent/serving/rollback.h"
#include "agent/serving/serving_layout.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/temp_dir.h"

using namespace bg;
namespace fs = std::filesystem;

namespace {

HistoryEntry Promoted(const std::string& v) { return {"promoted", v, "", "", "", "", ""}; }
HistoryEntry Rolled(const std::string& v) { return {"rolled-back", v, "", "", "", "", ""}; }
HistoryEntry Added(const std::string& v) { return {"added", v, "", "", "", "", ""}; }

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
  std::vector<HistoryEntry> h = {{"promoted", "1", "t", a, "", "", ""}, {"added", "2", "t", b, "", "", ""}};
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
  CHECK(DecisionJournal::ExistsIn(work.paths().Dir(item->id)));
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

namespace {

// A root with its directories, an audit log and a work area, for driving the executor directly.
struct Fixture {
  test::TempDir tmp;
  Config config = DefaultConfig(tmp / "root");
  std::unique_ptr<AuditLog> audit;
  std::unique_ptr<WorkArea> work;

  Fixture() {
    for (const auto& d : {config.paths.inbox, config.paths.work, config.paths.serving,
                          config.paths.quarantine}) {
      fs::create_directories(d);
    }
    audit = std::move(AuditLog::Open(config.paths.audit_log).value());
    work = std::make_unique<WorkArea>(config.paths, true, Env::Default());
  }

  // Drops `spec` as `inbox_name`, claims it (move intake) and checks it.
  std::pair<WorkItem, Decision> Checked(const std::string& inbox_name, const test::BundleSpec& spec,
                                        const DecisionExecutor& executor) {
    test::WriteBundle(config.paths.inbox + "/" + inbox_name, spec);
    auto item = work->Claim(inbox_name, IntakeMode::kMove);
    REQUIRE(item.ok());
    CheckPipeline::Options lax;
    lax.require_parity = false;
    lax.serving_dir = config.paths.serving;
    const BundleReport report = CheckPipeline(lax, {}).Run(work->paths().Bundle(item->id));
    return {*item, DecideFromReport(*item, report, work->paths().Bundle(item->id), executor.layout())};
  }

  std::vector<Json> Audit() { return ReadAuditRecords(config.paths.audit_log).value(); }
};

}  // namespace

TEST_CASE("item 11: a promotion retried after another of the same version was promoted is re-decided") {
  for (const bool identical : {true, false}) {
    Fixture f;
    INFO((identical ? "identical" : "different content"));
    FailingRenameEnv failing(f.config.paths.serving + "/test-model/1.0.0");
    DecisionExecutor broken(f.config, *f.work, *f.audit, failing);
    DecisionExecutor healthy(f.config, *f.work, *f.audit, Env::Default());
    test::BundleSpec first;
    auto [a, da] = f.Checked("a", first, healthy);
    REQUIRE(da.action == Decision::Action::kPromote);
    REQUIRE_FALSE(broken.Execute(a, da).ok());  // a transient failure: a waits for its retry
    // Meanwhile another bundle of the same name and version is checked and promoted.
    test::BundleSpec second;
    if (!identical) second.files["model.pt"] = "other weights";
    auto [b, db] = f.Checked("b", second, healthy);
    REQUIRE(db.action == Decision::Action::kPromote);
    auto promoted = healthy.Execute(b, db);
    REQUIRE(promoted.ok());
    REQUIRE(promoted->record["event"] == "promoted");
    // The retry of a: not "exists" forever, but a new decision, recorded and audited once.
    auto retried = healthy.Resume(a);
    REQUIRE(retried.ok());
    if (identical) {
      CHECK(retried->decision.action == Decision::Action::kNoop);
      CHECK(retried->record["noop"] == true);
    } else {
      CHECK(retried->decision.action == Decision::Action::kQuarantine);
      CHECK(retried->record["reason"] == "duplicate-version");
      CHECK(IsDirectory(retried->decision.target));
    }
    CHECK_THAT(retried->record.value("redecided", ""), Catch::Contains("another bundle"));
    CHECK_FALSE(PathExists(f.work->paths().Dir(a.id)));
    CHECK(f.Audit().size() == 2);
    // Resuming again is "already done": nothing more happens.
    CHECK_FALSE(healthy.Resume(a).ok());
    CHECK(f.Audit().size() == 2);
  }
}

TEST_CASE("item 7: the executor refuses a target that is not a plain version directory") {
  // A decision that got past the manifest rules somehow: version "current", or a target
  // elsewhere than serving/<name>/<version>.
  for (const auto& [version, leaf] : std::vector<std::pair<std::string, std::string>>{
           {"current", "current"}, {"1.0.0", ".history.jsonl"}}) {
    INFO(version << " -> " << leaf);
    Fixture f;
    DecisionExecutor executor(f.config, *f.work, *f.audit, Env::Default());
    auto [item, d] = f.Checked("b", test::BundleSpec{}, executor);
    REQUIRE(d.action == Decision::Action::kPromote);
    d.version = version;
    d.target = f.config.paths.serving + "/test-model/" + leaf;
    auto result = executor.Execute(item, d);
    REQUIRE(result.ok());
    CHECK(result->decision.action == Decision::Action::kQuarantine);
    CHECK(result->record["reason"] == "manifest-invalid");
    CHECK_FALSE(PathExists(f.config.paths.serving + "/test-model/current"));
    CHECK_FALSE(PathExists(f.config.paths.serving + "/test-model/.history.jsonl"));
    CHECK(IsDirectory(result->decision.target));
  }
}

TEST_CASE("the journal keeps names as bytes and drops a torn last line") {
  test::TempDir tmp;
  const std::string dir = tmp / "work-id";
  fs::create_directories(dir);
  Decision d;
  d.action = Decision::Action::kQuarantine;
  d.source = dir + "/bundle";
  d.target = tmp / std::string("quarantine/bad-\xff\xfe.20260101");
  {
    auto journal = DecisionJournal::Load(Env::Default(), dir, "work-id");
    REQUIRE(journal.ok());
    REQUIRE(journal->Append({{"type", "check-started"}, {"attempt", 1}}, false).ok());
    REQUIRE(journal->Append({{"type", "decision"}, {"decision", d.ToJson()}}, true).ok());
  }
  test::AppendFile(DecisionJournal::PathIn(dir), "{\"type\":\"deci");  // killed mid-append
  auto journal = DecisionJournal::Load(Env::Default(), dir, "work-id");
  REQUIRE(journal.ok());
  REQUIRE(journal->records().size() == 3);
  CHECK(journal->records()[0]["agent"].contains("boot_id"));
  auto back = Decision::FromJson(journal->Last("decision")->at("decision"));
  REQUIRE(back.ok());
  CHECK(back->target == d.target);  // exact bytes, not U+FFFD
  CHECK(journal->CheckAttempts().empty());  // a decision came after the attempt
  // The next append starts on a clean line.
  REQUIRE(journal->Append({{"type", "retire"}, {"versions", Json::array()}}, true).ok());
  auto again = DecisionJournal::Load(Env::Default(), dir, "work-id");
  REQUIRE(again.ok());
  CHECK(again->records().size() == 4);
  // Damage before the last line is not guessed at.
  test::WriteFile(DecisionJournal::PathIn(dir), "{\"type\":\"begin\"}\nnot json\n{\"type\":\"x\"}\n");
  CHECK_FALSE(DecisionJournal::Load(Env::Default(), dir, "work-id").ok());
}

TEST_CASE("FindAuditRecordSince reads only what was appended after the mark") {
  test::TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  auto audit = AuditLog::Open(path);
  REQUIRE(audit.ok());
  REQUIRE((*audit)->Append("promoted", Json{{"intake_id", "old"}}).ok());
  auto mark = ReadAuditMark(path);
  REQUIRE(mark.ok());
  CHECK(mark->seq == 1);
  REQUIRE((*audit)->Append("promoted", Json{{"intake_id", "new"}}).ok());
  auto match = [](const std::string& id) {
    return [id](const Json& r) { return r.value("intake_id", "") == id; };
  };
  CHECK(FindAuditRecordSince(path, *mark, "new", match("new"))->has_value());
  CHECK_FALSE(FindAuditRecordSince(path, *mark, "old", match("old"))->has_value());
  CHECK(FindAuditRecordSince(path, AuditMark{}, "old", match("old"))->has_value());
}

TEST_CASE("item 1: retention never removes a version that a recorded, unfinished no-op refers to") {
  Fixture f;
  f.config.serving.keep_versions = 2;
  DecisionExecutor executor(f.config, *f.work, *f.audit, Env::Default());
  auto promote = [&](const std::string& inbox_name, const std::string& version) {
    test::BundleSpec spec;
    spec.version = version;
    spec.files["model.pt"] = "weights " + version;
    auto [item, d] = f.Checked(inbox_name, spec, executor);
    REQUIRE(d.action == Decision::Action::kPromote);
    auto done = executor.Execute(item, d);
    REQUIRE(done.ok());
    return *done;
  };
  promote("a", "1");
  promote("b", "2");
  // An identical re-drop of 1 is checked and decided a no-op; its decision is recorded, and then
  // the agent dies before carrying it out (or its step fails and waits for a retry).
  test::BundleSpec again;
  again.version = "1";
  again.files["model.pt"] = "weights 1";
  auto [redrop, noop] = f.Checked("a-again", again, executor);
  REQUIRE(noop.action == Decision::Action::kNoop);
  {
    auto journal = DecisionJournal::Load(Env::Default(), f.work->paths().Dir(redrop.id), redrop.id);
    REQUIRE(journal.ok());
    REQUIRE(journal->Append({{"type", "decision"}, {"decision", noop.ToJson()}}, true).ok());
  }
  // 3 is promoted: keep_versions = 2 would retire 1, but the pending no-op refers to it.
  const ExecutionResult third = promote("c", "3");
  CHECK(third.retired.empty());
  CHECK(IsDirectory(f.config.paths.serving + "/test-model/1"));
  auto finished = executor.Resume(redrop);
  REQUIRE(finished.ok());
  CHECK(finished->decision.action == Decision::Action::kNoop);
  CHECK(finished->record["noop"] == true);
  CHECK(finished->record["path"] == f.config.paths.serving + "/test-model/1");
  // Once nothing refers to it, the next promotion retires it as usual.
  const ExecutionResult fourth = promote("d", "4");
  REQUIRE(fourth.retired.size() == 2);
  CHECK(fourth.retired[0]["version"] == "1");
  CHECK_FALSE(PathExists(f.config.paths.serving + "/test-model/1"));
}

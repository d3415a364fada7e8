// The audit log: appending, the hash chain and what verify finds when it is broken, torn tails
// and their repair, reading records back, concurrent appenders (processes and threads), and
// failures injected through Env.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <thread>
#include <vector>

#include "agent/audit/audit_log.h"
#include "agent/audit/audit_record.h"
#include "agent/audit/audit_text.h"
#include "agent/core/sha256.h"
#include "tests/support/temp_dir.h"

using namespace bg;
using namespace bg::test;

namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(ReadFile(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void WriteLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  WriteFile(path, text);
}

std::unique_ptr<AuditLog> OpenLog(const std::string& path, Env& env = Env::Default()) {
  auto log = AuditLog::Open(path, env);
  REQUIRE(log.ok());
  return std::move(log).value();
}

// A log of `n` records: started, then promoted a@1, a@2, ...
std::string MakeLog(const TempDir& tmp, int n) {
  const std::string path = tmp / "audit.jsonl";
  auto log = OpenLog(path);
  for (int i = 1; i <= n; ++i) {
    const Json fields = i == 1 ? Json::object()
                               : Json{{"name", "a"}, {"version", std::to_string(i - 1)}};
    REQUIRE(log->Append(i == 1 ? "started" : "promoted", fields).ok());
  }
  return path;
}

std::vector<std::string> Events(const std::vector<Json>& records) {
  std::vector<std::string> events;
  for (const auto& r : records) events.push_back(r["event"].get<std::string>() + "#" + r["seq"].dump());
  return events;
}

// Fails every fsync of the log file once armed (directory fsyncs pass).
class FailingFsyncEnv : public Env {
 public:
  bool armed = false;
  Status Fsync(int fd, const std::string& path) override {
    if (armed && path.find("audit.jsonl") != std::string::npos) {
      return Status::Error("fsync " + path + ": Input/output error");
    }
    return Env::Fsync(fd, path);
  }
};

class RecordingEnv : public Env {
 public:
  std::vector<std::string> steps;
  void CrashPoint(std::string_view step) override { steps.emplace_back(step); }
};

}  // namespace

TEST_CASE("appended records form a hash chain that verifies") {
  TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  auto log = OpenLog(path);
  auto first = log->Append("started", Json{{"pid", 42}});
  REQUIRE(first.ok());
  auto second = log->Append("promoted", Json{{"name", "fraud"}, {"version", "1"}, {"reason", ""}});
  REQUIRE(second.ok());

  std::vector<std::string> keys;
  for (const auto& item : second->items()) keys.push_back(item.key());
  CHECK(keys == std::vector<std::string>{"seq", "time", "event", "prev", "name", "version", "reason"});
  CHECK((*first)["seq"] == 1);
  CHECK((*first)["prev"] == std::string(kAuditGenesisPrev));
  CHECK(IsRfc3339((*first)["time"].get<std::string>()));

  const auto lines = Lines(path);
  REQUIRE(lines.size() == 2);
  CHECK(ParseAuditLine(lines[1]) == *second);
  CHECK((*second)["prev"] == Sha256Hex(lines[0]));

  const AuditVerifyReport report = VerifyAuditLog(path);
  CHECK(report.intact);
  CHECK(report.lines == 2);
  CHECK(report.head == Sha256Hex(lines[1]));
  CHECK(report.bad_line == 0);
  CHECK(report.why.empty());
  CHECK_FALSE(report.torn_tail);
}

TEST_CASE("an empty log verifies with a head of zeros") {
  TempDir tmp;
  OpenLog(tmp / "audit.jsonl");
  const AuditVerifyReport report = VerifyAuditLog(tmp / "audit.jsonl");
  CHECK(report.intact);
  CHECK(report.lines == 0);
  CHECK(report.head == std::string(kAuditGenesisPrev));
}

TEST_CASE("a missing log is a read error and not intact") {
  TempDir tmp;
  const AuditVerifyReport report = VerifyAuditLog(tmp / "nope.jsonl");
  CHECK(report.read_error);
  CHECK_FALSE(report.intact);
  CHECK_THAT(report.why, Catch::Contains("nope.jsonl"));
}

TEST_CASE("Open creates the log with mode 0640 in an existing directory only") {
  TempDir tmp;
  ::umask(022);
  OpenLog(tmp / "audit.jsonl");
  struct stat st;
  REQUIRE(::stat((tmp / "audit.jsonl").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  auto missing = AuditLog::Open(tmp / "no-such-dir/audit.jsonl");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("no-such-dir"));
}

TEST_CASE("a byte edited in a middle line breaks the chain at the next line") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 5);
  ReplaceInFile(path, "\"version\":\"2\"", "\"version\":\"7\"");  // line 3
  const AuditVerifyReport report = VerifyAuditLog(path);
  CHECK_FALSE(report.intact);
  CHECK(report.bad_line == 4);
  CHECK_THAT(report.why, Catch::StartsWith("line 4: prev does not match the SHA-256 of line 3"));
  CHECK_THAT(report.why, Catch::Contains(Sha256Hex(Lines(path)[2])));
  CHECK(report.lines == 5);
}

TEST_CASE("a deleted line is reported at its place") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 5);
  auto lines = Lines(path);
  lines.erase(lines.begin() + 2);
  WriteLines(path, lines);
  const AuditVerifyReport report = VerifyAuditLog(path);
  CHECK_FALSE(report.intact);
  CHECK(report.bad_line == 3);
  CHECK_THAT(report.why, Catch::StartsWith("line 3: seq 4, expected 3"));
}

TEST_CASE("two swapped lines are reported") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 5);
  auto lines = Lines(path);
  std::swap(lines[1], lines[2]);
  WriteLines(path, lines);
  const AuditVerifyReport report = VerifyAuditLog(path);
  CHECK(report.bad_line == 2);
  CHECK_THAT(report.why, Catch::StartsWith("line 2: seq 3, expected 2"));
}

TEST_CASE("a renumbered line with a forged seq still fails on prev") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 4);
  auto lines = Lines(path);
  lines.erase(lines.begin() + 1);
  lines[1].replace(lines[1].find("\"seq\":3"), 7, "\"seq\":2");
  lines[2].replace(lines[2].find("\"seq\":4"), 7, "\"seq\":3");
  WriteLines(path, lines);
  const AuditVerifyReport report = VerifyAuditLog(path);
  CHECK(report.bad_line == 2);
  CHECK_THAT(report.why, Catch::StartsWith("line 2: prev does not match the SHA-256 of line 1"));
}

TEST_CASE("lines that are not records are named with the reason") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 3);
  auto lines = Lines(path);
  SECTION("not JSON in the middle") {
    lines[1] = "garbage";
    WriteLines(path, lines);
    const auto report = VerifyAuditLog(path);
    CHECK(report.why == "line 2: not a JSON object");
    CHECK_FALSE(report.torn_tail);
  }
  SECTION("a bad time") {
    auto record = *ParseAuditLine(lines[2]);
    record["time"] = "yesterday";
    lines[2] = DumpJson(record);
    WriteLines(path, lines);
    CHECK(VerifyAuditLog(path).why == "line 3: time is missing or not an RFC 3339 timestamp");
  }
  SECTION("an empty event") {
    auto record = *ParseAuditLine(lines[2]);
    record["event"] = "";
    lines[2] = DumpJson(record);
    WriteLines(path, lines);
    CHECK(VerifyAuditLog(path).why == "line 3: event is missing or not a non-empty string");
  }
  SECTION("a first line whose prev is not zeros") {
    auto record = *ParseAuditLine(lines[0]);
    record["prev"] = Sha256Hex("x");
    lines[0] = DumpJson(record);
    WriteLines(path, lines);
    CHECK_THAT(VerifyAuditLog(path).why, Catch::StartsWith("line 1: prev of the first line must be 64 zeros"));
  }
}

TEST_CASE("an edit of the last line is visible only in the head") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 3);
  const std::string head = VerifyAuditLog(path).head;
  ReplaceInFile(path, "\"version\":\"2\"", "\"version\":\"9\"");
  const auto report = VerifyAuditLog(path);
  CHECK(report.intact);
  CHECK(report.head != head);
}

TEST_CASE("a torn tail is reported by verify and set aside by the next append") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 2);
  const std::string partial = "{\"seq\":3,\"time\":\"2026-11-28T10:00:00.000Z\",\"eve";
  AppendFile(path, partial);

  const auto report = VerifyAuditLog(path);
  CHECK_FALSE(report.intact);
  CHECK(report.torn_tail);
  CHECK(report.lines == 2);
  CHECK(report.bad_line == 3);
  CHECK_THAT(report.why, Catch::StartsWith("line 3: torn: no trailing newline (a crash during append?)"));

  auto log = OpenLog(path);
  auto appended = log->Append("started", Json::object());
  REQUIRE(appended.ok());
  CHECK((*appended)["seq"] == 4);

  const auto records = ReadAuditRecords(path);
  REQUIRE(records.ok());
  REQUIRE(records->size() == 4);
  const Json& recovered = (*records)[2];
  CHECK(recovered["event"] == "recovered");
  CHECK(recovered["seq"] == 3);
  CHECK(recovered["what"] == "torn-tail");
  CHECK(recovered["bytes"] == partial.size());
  CHECK(recovered["text"] == partial);
  CHECK(recovered["sha256"] == Sha256Hex(partial));
  const std::string saved = recovered["saved_to"];
  CHECK_THAT(saved, Catch::StartsWith(path + ".torn-"));
  CHECK(ReadFile(saved) == partial);
  CHECK(VerifyAuditLog(path).intact);
}

TEST_CASE("an unparseable last line is torn too and quoted as hex") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 2);
  const std::string junk("\0\0\0\xff\n", 5);
  AppendFile(path, junk);
  const auto report = VerifyAuditLog(path);
  CHECK(report.torn_tail);
  CHECK(report.bad_line == 3);
  CHECK_THAT(report.why, Catch::Contains("a torn last line?"));

  auto log = OpenLog(path);
  auto repaired = log->RepairTornTail();
  REQUIRE(repaired.ok());
  REQUIRE(repaired->has_value());
  CHECK((**repaired)["hex"] == "000000ff0a");
  CHECK((**repaired)["seq"] == 3);
  CHECK(ReadFile((**repaired)["saved_to"].get<std::string>()) == junk);
  CHECK(VerifyAuditLog(path).intact);
}

TEST_CASE("a log holding only a torn line starts over with the recovered record") {
  TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  WriteFile(path, "{\"seq\":1,");
  auto log = OpenLog(path);
  auto record = log->Append("started", Json::object());
  REQUIRE(record.ok());
  CHECK((*record)["seq"] == 2);
  CHECK(Lines(path).size() == 2);
  CHECK(ParseAuditLine(Lines(path)[0]).value()["event"] == "recovered");
  CHECK(VerifyAuditLog(path).intact);
}

TEST_CASE("RepairTornTail on an intact log writes nothing") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 2);
  const std::string before = ReadFile(path);
  auto repaired = OpenLog(path)->RepairTornTail();
  REQUIRE(repaired.ok());
  CHECK_FALSE(repaired->has_value());
  CHECK(ReadFile(path) == before);
}

TEST_CASE("a last line that is JSON but no audit record stops appends") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 2);
  AppendFile(path, "{\"hello\":1}\n");
  const std::string before = ReadFile(path);
  auto appended = OpenLog(path)->Append("started", Json::object());
  REQUIRE_FALSE(appended.ok());
  CHECK_THAT(appended.status().message(), Catch::Contains("not an audit record"));
  CHECK(ReadFile(path) == before);
}

TEST_CASE("reserved fields and empty events are refused") {
  TempDir tmp;
  auto log = OpenLog(tmp / "audit.jsonl");
  CHECK_FALSE(log->Append("", Json::object()).ok());
  CHECK_FALSE(log->Append("promoted", Json{{"seq", 9}}).ok());
  CHECK_FALSE(log->Append("promoted", Json::array()).ok());
  CHECK(log->Append("started", Json()).ok());  // null: no fields
  CHECK(Lines(tmp / "audit.jsonl").size() == 1);
}

TEST_CASE("invalid UTF-8 in a field is written as U+FFFD") {
  TempDir tmp;
  auto log = OpenLog(tmp / "audit.jsonl");
  REQUIRE(log->Append("rejected", Json{{"path", std::string("bad\xff.bin")}}).ok());
  CHECK_THAT(ReadFile(tmp / "audit.jsonl"), Catch::Contains("bad\xEF\xBF\xBD.bin"));
  CHECK(VerifyAuditLog(tmp / "audit.jsonl").intact);
}

TEST_CASE("Append returns the error and leaves no line when fsync fails") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 2);
  const std::string before = ReadFile(path);
  FailingFsyncEnv env;
  auto log = OpenLog(path, env);
  env.armed = true;
  auto appended = log->Append("promoted", Json{{"name", "a"}});
  REQUIRE_FALSE(appended.ok());
  CHECK_THAT(appended.status().message(), Catch::Contains("Input/output error"));
  CHECK(ReadFile(path) == before);
  env.armed = false;
  REQUIRE(log->Append("promoted", Json{{"name", "a"}}).ok());
  CHECK(VerifyAuditLog(path).lines == 3);
}

TEST_CASE("Append passes its crash points in order") {
  TempDir tmp;
  RecordingEnv env;
  auto log = OpenLog(tmp / "audit.jsonl", env);
  REQUIRE(log->Append("started", Json::object()).ok());
  CHECK(env.steps ==
        std::vector<std::string>{"audit.before-write", "audit.after-write", "audit.after-fsync"});
}

TEST_CASE("processes appending at the same time keep one chain") {
  TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  constexpr int kProcesses = 4;
  constexpr int kEach = 100;
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto log = AuditLog::Open(path);  // no Catch2 in the child
      if (!log.ok()) ::_exit(2);
      for (int i = 0; i < kEach; ++i) {
        if (!(*log)->Append("promoted", Json{{"name", "p" + std::to_string(p)}}).ok()) ::_exit(1);
      }
      ::_exit(0);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  const auto report = VerifyAuditLog(path);
  INFO(report.why);
  CHECK(report.intact);
  CHECK(report.lines == kProcesses * kEach);
}

TEST_CASE("verify and tail while another process appends see only whole lines") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 1);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto log = AuditLog::Open(path);
    if (!log.ok()) ::_exit(2);
    // Lines of 4 MiB: a write that long is visible half done to an unlocked reader (without
    // the readers' shared flock this test fails within a few appends).
    const Json fields{{"name", "busy"}, {"message", std::string(4 << 20, 'm')}};
    for (int i = 0; i < 25; ++i) {
      if (!(*log)->Append("promoted", fields).ok()) ::_exit(1);
    }
    ::_exit(0);
  }
  int bad = 0;
  int status = 0;
  std::string why;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    const auto report = VerifyAuditLog(path);
    const auto tail = TailAuditRecords(path, 2);
    if (!report.intact || !tail.ok() || tail->empty()) {
      ++bad;
      why = report.why;
    }
  }
  INFO(why);
  CHECK(bad == 0);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(VerifyAuditLog(path).lines == 26);
}

TEST_CASE("threads sharing one AuditLog keep one chain") {
  TempDir tmp;
  auto log = OpenLog(tmp / "audit.jsonl");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        if (!log->Append("promoted", Json{{"thread", t}}).ok()) ++failures[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == std::vector<int>(4, 0));
  const auto report = VerifyAuditLog(tmp / "audit.jsonl");
  CHECK(report.intact);
  CHECK(report.lines == 200);
}

TEST_CASE("a log renamed away under a running AuditLog is followed to the new file") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 1);
  auto log = OpenLog(path);
  REQUIRE(log->Append("promoted", Json::object()).ok());
  std::filesystem::rename(path, path + ".1");
  auto record = log->Append("started", Json::object());
  REQUIRE(record.ok());
  CHECK((*record)["seq"] == 1);
  CHECK(Lines(path).size() == 1);
  CHECK(Lines(path + ".1").size() == 2);
}

TEST_CASE("tail returns the newest records oldest first") {
  TempDir tmp;
  const std::string path = MakeLog(tmp, 5);
  AppendFile(path, "{\"seq\":6,\"torn");  // a torn tail is left out
  auto two = TailAuditRecords(path, 2);
  REQUIRE(two.ok());
  CHECK(Events(*two) == std::vector<std::string>{"promoted#4", "promoted#5"});
  auto all = TailAuditRecords(path, 50);
  REQUIRE(all.ok());
  CHECK(all->size() == 5);
  CHECK(Events(*all).front() == "started#1");
  auto none = TailAuditRecords(path, 0);
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK_FALSE(TailAuditRecords(tmp / "missing", 3).ok());
}

TEST_CASE("tail and append read only the end of a huge sparse log") {
  TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0640);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t{64} << 30) == 0);  // 64 GiB of zeros, stored as a hole
    ::close(fd);
  }
  AppendFile(path, "\n");
  Json last = MakeAuditRecord(41, "2026-11-28T10:00:00.000Z", "started", Sha256Hex("x"),
                              Json::object()).value();
  AppendFile(path, DumpJson(last) + "\n");
  auto log = OpenLog(path);
  auto appended = log->Append("promoted", Json{{"name", "big"}});
  REQUIRE(appended.ok());
  CHECK((*appended)["seq"] == 42);
  CHECK((*appended)["prev"] == Sha256Hex(DumpJson(last)));
  auto tail = TailAuditRecords(path, 2);
  REQUIRE(tail.ok());
  CHECK(Events(*tail) == std::vector<std::string>{"started#41", "promoted#42"});
}

TEST_CASE("records longer than a read block chain and read back") {
  TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  auto log = OpenLog(path);
  const std::string big(300 * 1024, 'x');
  REQUIRE(log->Append("rejected", Json{{"name", "big"}, {"message", big}}).ok());
  REQUIRE(log->Append("rejected", Json{{"name", "big"}, {"message", big}}).ok());
  REQUIRE(log->Append("started", Json::object()).ok());
  CHECK(VerifyAuditLog(path).intact);
  auto tail = TailAuditRecords(path, 3);
  REQUIRE(tail.ok());
  CHECK(Events(*tail) == std::vector<std::string>{"rejected#1", "rejected#2", "started#3"});
  CHECK((*tail)[1]["message"] == big);
}

TEST_CASE("FindBundleRecords matches the name exactly and the version when given") {
  TempDir tmp;
  const std::string path = tmp / "audit.jsonl";
  auto log = OpenLog(path);
  REQUIRE(log->Append("promoted", Json{{"name", "a"}, {"version", "1"}}).ok());
  REQUIRE(log->Append("rejected", Json{{"name", "a"}, {"version", "2"}}).ok());
  REQUIRE(log->Append("promoted", Json{{"name", "ab"}, {"version", "1"}}).ok());
  REQUIRE(log->Append("rolled-back", Json{{"name", "a"}, {"version", "1"}}).ok());
  REQUIRE(log->Append("started", Json{{"message", "a"}}).ok());
  auto any = FindBundleRecords(path, "a", "");
  REQUIRE(any.ok());
  CHECK(Events(*any) == std::vector<std::string>{"promoted#1", "rejected#2", "rolled-back#4"});
  auto v1 = FindBundleRecords(path, "a", "1");
  REQUIRE(v1.ok());
  CHECK(Events(*v1) == std::vector<std::string>{"promoted#1", "rolled-back#4"});
  auto none = FindBundleRecords(path, "zz", "");
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("FormatAuditRecord puts a record on one readable line") {
  Json record = MakeAuditRecord(12, "2026-11-28T10:00:00.123Z", "rejected", Sha256Hex("p"),
                                Json{{"name", "fraud"},
                                     {"version", "2026.1"},
                                     {"digest", Sha256Hex("d")},
                                     {"reason", "parity-mismatch"},
                                     {"path", "quarantine/fraud@2026.1.x"},
                                     {"checks", Json::array({Json{{"check", "manifest"}, {"status", "pass"}},
                                                             Json{{"check", "parity"}, {"status", "fail"},
                                                                  {"summary", "3 outputs differ"}}})},
                                     {"message", "outputs differ"}})
                    .value();
  const std::string line = FormatAuditRecord(record);
  CHECK(line == "2026-11-28T10:00:00.123Z  #12  rejected     fraud@2026.1  parity-mismatch  "
                "-> quarantine/fraud@2026.1.x  digest=" + Sha256Hex("d").substr(0, 12) +
                "  checks: 1 pass; parity fail: 3 outputs differ  outputs differ");
  CHECK(line.find(Sha256Hex("p")) == std::string::npos);  // prev is left out

  Json started = MakeAuditRecord(1, "2026-11-28T10:00:00.000Z", "started", std::string(kAuditGenesisPrev),
                                 Json{{"version", "0.1.0"},
                                      {"pid", 7},
                                      {"checks", Json::array({"manifest", "integrity"})},
                                      {"actions", Json::array({Json{{"a", 1}}})},
                                      {"limits", Json{{"x", 1}}}})
                     .value();
  CHECK(FormatAuditRecord(started) ==
        "2026-11-28T10:00:00.000Z  #1  started      version 0.1.0  pid=7  actions=[1]  "
        "checks=manifest,integrity");
}

TEST_CASE("IsRfc3339 accepts timestamps and rejects the rest") {
  CHECK(IsRfc3339("2026-11-28T10:00:00Z"));
  CHECK(IsRfc3339("2026-11-28T10:00:00.123Z"));
  CHECK(IsRfc3339("2026-11-28T10:00:00.1+02:00"));
  CHECK_FALSE(IsRfc3339("2026-11-28 10:00:00Z"));
  CHECK_FALSE(IsRfc3339("2026-11-28T10:00:00"));
  CHECK_FALSE(IsRfc3339("2026-11-28T10:00:00.Z"));
  CHECK_FALSE(IsRfc3339("2026-11-28T10:00:00Zjunk"));
  CHECK_FALSE(IsRfc3339(""));
}

TEST_CASE("an audit line nested deeper than the agent writes reads as damaged") {
  const std::string deep = "{\"seq\":1,\"x\":" + std::string(100000, '[') +
                           std::string(100000, ']') + "}";
  CHECK_FALSE(ParseAuditLine(deep).has_value());
  const std::string ok = "{\"seq\":1,\"x\":" + std::string(100, '[') + std::string(100, ']') + "}";
  CHECK(ParseAuditLine(ok).has_value());
}

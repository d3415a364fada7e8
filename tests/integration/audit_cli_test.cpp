// `bundlegate audit verify|tail|show` run as a process, on logs written here by hand (with their
// own SHA-256 chain, independent of the agent's writer): exit codes, messages, JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "agent/core/sha256.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;
using Json = nlohmann::ordered_json;

namespace {

const std::string kZeros(64, '0');

// Writes a chained log line by line, as SPEC.md describes it.
class HandLog {
 public:
  explicit HandLog(std::string path) : path_(std::move(path)) { WriteFile(path_, ""); }

  void Add(const std::string& event, const Json& fields = Json::object()) {
    Json j;
    j["seq"] = ++seq_;
    j["time"] = "2026-11-28T10:00:0" + std::to_string(seq_ % 10) + ".000Z";
    j["event"] = event;
    j["prev"] = prev_;
    for (const auto& [k, v] : fields.items()) j[k] = v;
    const std::string line = j.dump();
    AppendFile(path_, line + "\n");
    prev_ = bg::Sha256Hex(line);
  }

  const std::string& path() const { return path_; }
  const std::string& head() const { return prev_; }

 private:
  std::string path_;
  std::string prev_ = kZeros;
  int seq_ = 0;
};

// started, promoted fraud@1, rejected fraud@2, promoted other@1, rolled-back fraud@1
HandLog SampleLog(const TempDir& tmp, const std::string& rel = "audit.jsonl") {
  HandLog log(tmp / rel);
  log.Add("started", {{"pid", 7}});
  log.Add("promoted", {{"name", "fraud"}, {"version", "1"}, {"path", "serving/fraud/1"}});
  log.Add("rejected", {{"name", "fraud"},
                       {"version", "2"},
                       {"reason", "parity-mismatch"},
                       {"path", "quarantine/fraud@2.20261128T100000.000Z"},
                       {"message", "logits differ"}});
  log.Add("promoted", {{"name", "other"}, {"version", "1"}});
  log.Add("rolled-back", {{"name", "fraud"}, {"version", "1"}, {"from", "2"}, {"to", "1"}});
  return log;
}

std::vector<std::string> OutLines(const std::string& out) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("audit verify exits 0 on an intact log and prints its head") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  const auto r = RunBundlegate({"audit", "verify", "--file", log.path()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "intact: 5 lines, head " + log.head() + "\n");
}

TEST_CASE("audit verify accepts an empty log") {
  TempDir tmp;
  WriteFile(tmp / "audit.jsonl", "");
  const auto r = RunBundlegate({"audit", "verify", "--file", tmp / "audit.jsonl"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "intact: 0 lines, head " + kZeros + "\n");
}

TEST_CASE("audit verify names the first bad line of an edited log and exits 1") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  ReplaceInFile(log.path(), "logits differ", "logits agree");  // line 3
  const auto r = RunBundlegate({"audit", "verify", "--file", log.path()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::StartsWith("not intact: line 4: prev does not match the SHA-256 of line 3"));
}

TEST_CASE("audit verify reports a deleted line by its seq") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  auto lines = OutLines(ReadFile(log.path()));
  lines.erase(lines.begin() + 1);
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  WriteFile(log.path(), text);
  const auto r = RunBundlegate({"audit", "verify", "--file", log.path()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("line 2: seq 3, expected 2"));
}

TEST_CASE("audit verify reports a torn tail with exit 1") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  AppendFile(log.path(), "{\"seq\":6,\"ti");
  const auto r = RunBundlegate({"audit", "verify", "--file", log.path()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.out, Catch::Contains("line 6: torn: no trailing newline"));
  const auto j = RunBundlegate({"audit", "verify", "--file", log.path(), "--json"});
  CHECK(j.exit_code == 1);
  const auto report = nlohmann::json::parse(j.out);
  CHECK(report["torn_tail"] == true);
  CHECK(report["bad_line"] == 6);
  CHECK(report["lines"] == 5);
  CHECK(report["intact"] == false);
}

TEST_CASE("audit verify --expect-head checks the anchor") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  SECTION("the recorded head") {
    const auto r = RunBundlegate({"audit", "verify", "--file", log.path(), "--expect-head", log.head()});
    CHECK(r.exit_code == 0);
  }
  SECTION("in upper case") {
    std::string upper = log.head();
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(RunBundlegate({"audit", "verify", "--file", log.path(), "--expect-head", upper}).exit_code == 0);
  }
  SECTION("after the last line was edited") {
    ReplaceInFile(log.path(), "\"from\":\"2\"", "\"from\":\"3\"");
    const auto plain = RunBundlegate({"audit", "verify", "--file", log.path()});
    CHECK(plain.exit_code == 0);  // the chain alone cannot see it
    const auto r = RunBundlegate({"audit", "verify", "--file", log.path(), "--expect-head", log.head()});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.out, Catch::StartsWith("head mismatch: expected " + log.head()));
  }
  SECTION("not a hash") {
    const auto r = RunBundlegate({"audit", "verify", "--file", log.path(), "--expect-head", "abc"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("64 hex"));
  }
}

TEST_CASE("audit verify exits 2 when the log cannot be read") {
  TempDir tmp;
  const auto r = RunBundlegate({"audit", "verify", "--file", tmp / "missing.jsonl"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("missing.jsonl"));
}

TEST_CASE("audit finds the log through the config") {
  TempDir tmp;
  WriteFile(tmp / "bg.toml", "[paths]\nroot = \"var\"\n");
  const HandLog log = SampleLog(tmp, "var/audit.jsonl");
  const auto r = RunBundlegate({"audit", "verify", "--config", tmp / "bg.toml"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("intact: 5 lines"));
  const auto tail = RunBundlegate({"audit", "tail", "-n", "1", "--config", tmp / "bg.toml"});
  CHECK(tail.exit_code == 0);
  CHECK_THAT(tail.out, Catch::Contains("rolled-back"));
}

TEST_CASE("audit with both --file and --config is a usage error") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  WriteFile(tmp / "bg.toml", "[paths]\nroot = \"var\"\n");
  const auto r = RunBundlegate({"audit", "verify", "--file", log.path(), "--config", tmp / "bg.toml"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("audit tail prints the last records one line each") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  const auto r = RunBundlegate({"audit", "tail", "-n", "3", "--file", log.path()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const auto lines = OutLines(r.out);
  REQUIRE(lines.size() == 3);
  CHECK_THAT(lines[0], Catch::Contains("#3  rejected"));
  CHECK_THAT(lines[0], Catch::Contains("fraud@2  parity-mismatch  -> quarantine/fraud@2."));
  CHECK_THAT(lines[0], Catch::EndsWith("logits differ"));
  CHECK_THAT(lines[1], Catch::Contains("#4  promoted     other@1"));
  CHECK_THAT(lines[2], Catch::Contains("#5  rolled-back  fraud@1  from=2  to=1"));
  CHECK_THAT(lines[2], Catch::StartsWith("2026-11-28T10:00:05.000Z"));

  const auto all = RunBundlegate({"audit", "tail", "--file", log.path()});
  CHECK(OutLines(all.out).size() == 5);
}

TEST_CASE("audit tail --json prints the records as JSON Lines") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  const auto r = RunBundlegate({"audit", "tail", "-n", "2", "--json", "--file", log.path()});
  REQUIRE(r.exit_code == 0);
  const auto lines = OutLines(r.out);
  REQUIRE(lines.size() == 2);
  const auto logged = OutLines(ReadFile(log.path()));
  CHECK(lines == std::vector<std::string>(logged.end() - 2, logged.end()));
}

TEST_CASE("audit show lists every record of one bundle") {
  TempDir tmp;
  const HandLog log = SampleLog(tmp);
  SECTION("by name") {
    const auto r = RunBundlegate({"audit", "show", "fraud", "--file", log.path()});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    const auto lines = OutLines(r.out);
    REQUIRE(lines.size() == 3);
    CHECK_THAT(lines[0], Catch::Contains("#2  promoted"));
    CHECK_THAT(lines[1], Catch::Contains("#3  rejected"));
    CHECK_THAT(lines[2], Catch::Contains("#5  rolled-back"));
  }
  SECTION("by name and version as JSON") {
    const auto r = RunBundlegate({"audit", "show", "fraud@1", "--json", "--file", log.path()});
    REQUIRE(r.exit_code == 0);
    const auto lines = OutLines(r.out);
    REQUIRE(lines.size() == 2);
    CHECK(nlohmann::json::parse(lines[0])["event"] == "promoted");
    CHECK(nlohmann::json::parse(lines[1])["event"] == "rolled-back");
  }
  SECTION("a bundle never seen") {
    const auto r = RunBundlegate({"audit", "show", "nobody", "--file", log.path()});
    CHECK(r.exit_code == 0);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("no audit records name nobody"));
  }
  SECTION("a malformed argument") {
    CHECK(RunBundlegate({"audit", "show", "fraud@", "--file", log.path()}).exit_code == 2);
  }
}

TEST_CASE("every audit subcommand has help") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"audit", "--help"}, {"audit", "verify", "--help"},
        {"audit", "tail", "--help"}, {"audit", "show", "--help"}}) {
    const auto r = RunBundlegate(args);
    INFO(args.size());
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("--") || Catch::Contains("verify"));
  }
  CHECK_THAT(RunBundlegate({"audit", "verify", "--help"}).out, Catch::Contains("--expect-head"));
  CHECK_THAT(RunBundlegate({"audit", "tail", "--help"}).out, Catch::Contains("-n"));
  CHECK(RunBundlegate({"audit"}).exit_code == 2);
}

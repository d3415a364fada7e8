// The plugin SDK: request parsing, results, the config reader, safe bundle file access, and,
// through a real plugin process (sdk_test_plugin.cpp), the exception barrier and the guard that
// keeps stdout for the one result.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "plugins/sdk/bundle_file.h"
#include "plugins/sdk/config_reader.h"
#include "plugins/sdk/dtype.h"
#include "plugins/sdk/request.h"
#include "plugins/sdk/result.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using bg::test::TempDir;
using bg::test::WriteFile;
using namespace bg::sdk;

namespace {

std::string RequestText(const Json& config) {
  return DumpJson({{"protocol", 1},
                   {"bundle_dir", "/srv/bundle"},
                   {"manifest", Json::object()},
                   {"config", config}});
}

// Runs the SDK test plugin; its stdout must be exactly one JSON line.
Json RunTestPlugin(const std::string& stdin_data, bg::test::ProcessResult* raw = nullptr) {
  bg::test::ProcessOptions options;
  options.stdin_data = stdin_data;
  const auto r = bg::test::RunProcess({BG_SDK_TEST_PLUGIN}, options);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(!r.out.empty());
  REQUIRE(r.out.back() == '\n');
  REQUIRE(r.out.find('\n') == r.out.size() - 1);
  if (raw) *raw = r;
  return Json::parse(r.out);
}

}  // namespace

TEST_CASE("a request parses with its config defaulting to an empty object") {
  auto r =
      ParseRequest(R"({"protocol":1,"bundle_dir":"/b","manifest":{"name":"x"},"future":true})");
  REQUIRE(r.ok());
  CHECK(r->bundle_dir == "/b");
  CHECK(r->manifest["name"] == "x");
  CHECK(r->config.is_object());
  CHECK(r->config.empty());
}

TEST_CASE("malformed requests are refused with a reason") {
  const std::pair<std::string_view, const char*> cases[] = {
      {"", "not valid JSON"},
      {std::string_view("{}\0{\"protocol\":1}", 17), "NUL byte"},
      {"[1]", "not a JSON object"},
      {R"({"bundle_dir":"/b","manifest":{}})", "lacks \"protocol\""},
      {R"({"protocol":2,"bundle_dir":"/b","manifest":{}})", "protocol 2 is not supported"},
      {R"({"protocol":"1","bundle_dir":"/b","manifest":{}})", "is not supported"},
      {R"({"protocol":1,"manifest":{}})", "bundle_dir"},
      {R"({"protocol":1,"bundle_dir":"relative","manifest":{}})", "not an absolute path"},
      {R"({"protocol":1,"bundle_dir":"/b"})", "lacks \"manifest\""},
      {R"({"protocol":1,"bundle_dir":"/b","manifest":[]})", "\"manifest\" is not an object"},
      {R"({"protocol":1,"bundle_dir":"/b","manifest":{},"config":5})",
       "\"config\" is not an object"},
  };
  for (const auto& [text, fragment] : cases) {
    INFO(text);
    auto r = ParseRequest(text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(fragment));
  }
  // Nested 100,000 deep: measured before nlohmann (which recurses) sees it.
  const std::string deep = R"({"protocol":1,"bundle_dir":"/b","manifest":{},"config":{"x":)" +
                           std::string(100000, '[') + std::string(100000, ']') + "}}";
  auto r = ParseRequest(deep);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.status().message(), Catch::Contains("nested 100002 levels deep, more than 128"));
}

TEST_CASE("a result serializes with one-line summaries and no reason on pass") {
  auto pass = PluginResult::Pass("all good");
  pass.reason = "ignored";
  const Json p = pass.ToJson();
  CHECK(p["protocol"] == 1);
  CHECK(p["status"] == "pass");
  CHECK(p["reason"] == "");
  auto fail =
      PluginResult::Fail("parity-mismatch", "line one\nline two\r\n" + std::string(400, 'x'));
  const Json f = fail.ToJson();
  CHECK(f["status"] == "fail");
  CHECK(f["reason"] == "parity-mismatch");
  const std::string summary = f["summary"];
  CHECK(summary.find('\n') == std::string::npos);
  CHECK_THAT(summary, Catch::StartsWith("line one | line two | xxx"));
  CHECK(summary.size() == kMaxSummaryChars);
  CHECK_THAT(summary, Catch::EndsWith("..."));
  CHECK(PluginResult::Error("plugin-error", "e").ToJson()["status"] == "error");
}

TEST_CASE("the config reader reads typed values and reports every problem") {
  const Json config = {{"flag", true},    {"count", 5},
                       {"ratio", 0.5},    {"mode", "b"},
                       {"list", {"cpu"}}, {"table", {{"k", 1}}},
                       {"typo", 1},       {"big", 50},
                       {"bad_mode", "z"}, {"bad_list", {"cpu", "cpu"}}};
  ConfigReader r(config);
  CHECK(r.Bool("flag") == true);
  CHECK(r.Int("count", 1, 10) == 5);
  CHECK(r.Number("ratio", 0, 1) == 0.5);
  CHECK(r.Choice("mode", {"a", "b"}) == std::string("b"));
  CHECK(r.ChoiceList("list", {"cpu", "cuda"}) == std::vector<std::string>{"cpu"});
  CHECK(r.Table("table") != nullptr);
  CHECK_FALSE(r.Bool("absent").has_value());
  CHECK_FALSE(r.Int("big", 1, 10).has_value());
  CHECK_FALSE(r.Choice("bad_mode", {"a", "b"}).has_value());
  CHECK_FALSE(r.ChoiceList("bad_list", {"cpu", "cuda"}).has_value());
  const Status s = r.Finish();
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("config.big: must be an integer in [1, 10]"));
  CHECK_THAT(s.message(), Catch::Contains("config.bad_mode: must be one of \"a\", \"b\""));
  CHECK_THAT(s.message(),
             Catch::Contains("config.bad_list: must be a non-empty list of distinct values"));
  CHECK_THAT(s.message(), Catch::Contains("config.typo: unknown key"));
  CHECK(ConfigReader(Json::object()).Finish().ok());
  CHECK_FALSE(ConfigReader(Json::array()).Finish().ok());
}

TEST_CASE("bundle files are read only when they are regular files reached without symlinks") {
  TempDir tmp;
  const std::string b = tmp / "bundle";
  WriteFile(b + "/parity/inputs.safetensors", "data");
  WriteFile(tmp / "outside.txt", "secret");
  REQUIRE(::symlink("../outside.txt", (b + "/link.txt").c_str()) == 0);
  REQUIRE(::symlink(".", (b + "/dirlink").c_str()) == 0);
  REQUIRE(::mkfifo((b + "/fifo").c_str(), 0600) == 0);

  auto ok = ReadBundleFile(b, "parity/inputs.safetensors", 100);
  REQUIRE(ok.ok());
  CHECK(*ok == "data");
  const std::pair<const char*, const char*> refused[] = {
      {"link.txt", "is a symlink (refused)"},
      {"dirlink/parity/inputs.safetensors", "a parent is not a directory (or a symlink)"},
      {"fifo", "not a regular file"},
      {"parity", "not a regular file"},
      {"../outside.txt", "not a safe relative path"},
      {"/etc/passwd", "not a safe relative path"},
      {"parity//inputs.safetensors", "not a safe relative path"},
      {"missing", "No such file"},
  };
  for (const auto& [path, fragment] : refused) {
    INFO(path);
    auto r = ReadBundleFile(b, path, 100);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(fragment));
  }
  auto big = ReadBundleFile(b, "parity/inputs.safetensors", 3);
  REQUIRE_FALSE(big.ok());
  CHECK_THAT(big.status().message(), Catch::Contains("over the limit of 3"));
}

TEST_CASE("dtype names map both ways with torch aliases") {
  CHECK(ParseSafetensorsName("BF16") == Dtype::kBF16);
  CHECK_FALSE(ParseSafetensorsName("bf16").has_value());
  CHECK(ParseTorchName("long") == Dtype::kI64);
  CHECK(ParseTorchName("float") == Dtype::kF32);
  CHECK(TorchName(Dtype::kBool) == "bool");
  CHECK(DtypeSize(Dtype::kF64) == 8);
  CHECK(IsFloating(Dtype::kBF16));
  CHECK_FALSE(IsFloating(Dtype::kU8));
}

TEST_CASE("an SDK plugin describes itself on --describe") {
  const auto r = bg::test::RunProcess({BG_SDK_TEST_PLUGIN, "--describe"});
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(r.out);
  CHECK(j ==
        Json::parse(
            R"({"protocol":1,"kind":"sdk-test","version":"1.2.3","runtime":{"language":"c++"},"serve":true})"));
  CHECK(bg::test::RunProcess({BG_SDK_TEST_PLUGIN, "--bogus"}).exit_code == 2);
}

TEST_CASE("an SDK plugin answers a request with exactly one JSON object") {
  const Json j = RunTestPlugin(RequestText(Json::object()));
  CHECK(j["status"] == "pass");
  CHECK(j["details"]["bundle_dir"] == "/srv/bundle");
  CHECK(j["metrics"]["answer"] == 42);
}

TEST_CASE("library chatter on stdout is moved to stderr") {
  bg::test::ProcessResult raw;
  const Json j = RunTestPlugin(RequestText({{"chatter", true}}), &raw);
  CHECK(j["status"] == "pass");
  CHECK_THAT(raw.err, Catch::Contains("chatter from std::cout"));
  CHECK_THAT(raw.err, Catch::Contains("chatter from printf"));
  CHECK_THAT(raw.err, Catch::Contains("chatter from write"));
}

TEST_CASE("exceptions escaping the check become a plugin-error result") {
  const Json std_error = RunTestPlugin(RequestText({{"throw", "std"}}));
  CHECK(std_error["status"] == "error");
  CHECK(std_error["reason"] == "plugin-error");
  CHECK(std_error["summary"] == "the check could not run: internal error: boom | second line");
  const Json other = RunTestPlugin(RequestText({{"throw", "int"}}));
  CHECK(other["reason"] == "plugin-error");
  CHECK_THAT(other["summary"].get<std::string>(), Catch::Contains("unknown exception"));
}

TEST_CASE("bad and oversized requests become a plugin-error result") {
  CHECK(RunTestPlugin("")["summary"] == "the check could not run: no request on stdin");
  CHECK_THAT(RunTestPlugin("{not json")["summary"].get<std::string>(),
             Catch::Contains("not valid JSON"));
  const std::string huge = RequestText({{"pad", std::string(kMaxRequestBytes, 'x')}});
  const Json j = RunTestPlugin(huge);
  CHECK(j["reason"] == "plugin-error");
  CHECK_THAT(j["summary"].get<std::string>(), Catch::Contains("larger than the limit"));
}

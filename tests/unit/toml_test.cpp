#include <catch2/catch.hpp>

#include "agent/toml/table_reader.h"
#include "agent/toml/toml_depth.h"
#include "agent/toml/toml_document.h"

using namespace bg;

TEST_CASE("TomlDocument keeps types and lines") {
  auto doc = ParseToml("a = 1\n[t]\nb = \"x\"\nwhen = 2026-11-28T10:00:00Z\nlocal = 2026-11-28T10:00:00\n"
                       "[[arr]]\nc = 1.5\n",
                       "f.toml");
  REQUIRE(doc.ok());
  CHECK(doc->root["a"] == 1);
  CHECK(doc->Info("/a")->type == TomlType::kInteger);
  CHECK(doc->LineOf("/t/b") == 3);
  CHECK(doc->root["t"]["when"] == "2026-11-28T10:00:00Z");
  CHECK(doc->Info("/t/when")->type == TomlType::kOffsetDateTime);
  CHECK(doc->Info("/t/local")->type == TomlType::kLocalDateTime);
  CHECK(doc->Info("/arr/0/c")->type == TomlType::kFloat);
  CHECK(doc->LineOf("/arr/0/c") == 7);
}

TEST_CASE("a TOML syntax error names file, line and column") {
  auto doc = ParseToml("a = 1\nb = = 2\n", "broken.toml");
  REQUIRE_FALSE(doc.ok());
  CHECK_THAT(doc.status().message(), Catch::StartsWith("broken.toml:2:"));
}

TEST_CASE("TableReader reports wrong types, ranges, missing and unknown keys with lines") {
  auto doc = ParseToml("n = \"five\"\nbig = 900\nextra = true\n", "c.toml");
  REQUIRE(doc.ok());
  ErrorList errors("c.toml");
  TableReader t(*doc, "", "", &errors);
  CHECK_FALSE(t.Int("n", Presence::kRequired).has_value());
  CHECK_FALSE(t.Int("big", Presence::kOptional, 0, 100).has_value());
  CHECK_FALSE(t.String("needed", Presence::kRequired).has_value());
  t.RejectUnknownKeys();
  REQUIRE(errors.messages().size() == 4);
  CHECK(errors.messages()[0] == "c.toml:1: n: expected integer, found string");
  CHECK(errors.messages()[1] == "c.toml:2: big: must be between 0 and 100, found 900");
  CHECK(errors.messages()[2] == "c.toml:1: needed: missing (required)");
  CHECK(errors.messages()[3] == "c.toml:3: extra: unknown key");
}

// Bounded nesting (toml_depth.h): toml++ bounds inline values only; 100,000 key components
// crashed it. Each of these is refused before toml++ reads it, with the line.
TEST_CASE("TOML nested past the limit is refused with its line, before toml++ reads it") {
  std::string key = "a";
  for (int i = 1; i < 100000; ++i) key += ".a";
  const std::pair<std::string, int> deep[] = {
      {"x = 1\n" + key + " = 1\n", 2},
      {"[" + key + "]\nx = 1\n", 1},
      {"[[" + key + "]]\n", 1},
      {"a = " + std::string(100000, '[') + std::string(100000, ']') + "\n", 1},
      {"a = " + [] { std::string s; for (int i = 0; i < 100000; ++i) s += "{b = "; return s; }() + "1\n", 1},
      {"x = 1\n\n[t]\ny = [\n  1,\n  " + std::string(70, '[') + "\n]\n", 6},
  };
  for (const auto& [text, line] : deep) {
    INFO(text.substr(0, 40));
    auto doc = ParseToml(text, "deep.toml");
    REQUIRE_FALSE(doc.ok());
    CHECK_THAT(doc.status().message(),
               Catch::StartsWith("deep.toml:" + std::to_string(line) + ": nested more than 64"));
  }
}

TEST_CASE("TOML depth counts headers, dotted keys, arrays and inline tables, not strings") {
  CHECK(TomlNestingDepth("a = 1\n", 64).depth == 1);
  CHECK(TomlNestingDepth("[a.b]\nc.d = 1\n", 64).depth == 4);
  CHECK(TomlNestingDepth("[[a.b]]\nc = 1\n", 64).depth == 4);
  CHECK(TomlNestingDepth("a = [[1], {b.c = [2]}]\n", 64).depth == 5);
  CHECK(TomlNestingDepth("a = {b = {c = 1}, d = 2}\n", 64).depth == 3);
  CHECK(TomlNestingDepth("\"a.b.c\" = 'x.y.z'\nd = \"\"\"[[[[\n{{{\"\"\"\n# [[[[\n", 64).depth == 1);
  CHECK(TomlNestingDepth("a = 1.5e3\nwhen = 2026-11-28T10:00:00.5Z\n", 64).depth == 1);
  CHECK(TomlNestingDepth("a = [\n  1, # [[[\n  2,\n]\n", 64).depth == 2);
  // At the limit parses; one past it does not.
  const auto nest = [](int n) { return "a = " + std::string(n - 1, '[') + std::string(n - 1, ']') + "\n"; };
  CHECK(ParseToml(nest(64), "x.toml").ok());
  CHECK_FALSE(ParseToml(nest(65), "x.toml").ok());
}

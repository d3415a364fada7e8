#include <catch2/catch.hpp>

#include "agent/toml/table_reader.h"
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

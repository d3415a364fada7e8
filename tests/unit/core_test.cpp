#include <fcntl.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "agent/core/bounded_json.h"
#include "agent/core/clock.h"
#include "agent/core/env.h"
#include "agent/core/hex.h"
#include "agent/core/reason.h"
#include "agent/core/sha256.h"
#include "agent/core/status.h"
#include "tests/support/temp_dir.h"

using namespace bg;

TEST_CASE("every reason code round-trips through its SPEC spelling") {
  for (int i = 1; i <= static_cast<int>(Reason::kPluginCrashed); ++i) {
    const auto reason = static_cast<Reason>(i);
    const auto code = ReasonCode(reason);
    INFO(i);
    REQUIRE_FALSE(code.empty());
    REQUIRE(ParseReason(code) == reason);
  }
  CHECK(ReasonCode(Reason::kHashMismatch) == "hash-mismatch");
  CHECK_FALSE(ParseReason("no-such-code").has_value());
  CHECK_FALSE(ParseReason("").has_value());
}

TEST_CASE("Status and Result carry errors as values") {
  Status ok;
  CHECK(ok.ok());
  Status rej = Status::Reject(Reason::kSizeMismatch, "model.pt: 3 != 4");
  CHECK_FALSE(rej.ok());
  CHECK(rej.ToString() == "size-mismatch: model.pt: 3 != 4");
  CHECK(rej.WithContext("bundle x").message() == "bundle x: model.pt: 3 != 4");
  CHECK(rej.WithContext("bundle x").reason() == Reason::kSizeMismatch);

  Result<int> good = 7;
  REQUIRE(good.ok());
  CHECK(*good == 7);
  Result<int> bad = Status::Error("nope");
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().message() == "nope");
}

TEST_CASE("SHA-256 matches known vectors, in one piece or streamed") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.FinalHex() == Sha256Hex("abc"));
  // The object resets after FinalHex.
  h.Update("abc");
  CHECK(h.FinalHex() == Sha256Hex("abc"));
}

TEST_CASE("hex helpers") {
  const std::uint8_t bytes[] = {0x00, 0xab, 0xff};
  CHECK(ToHex(bytes, 3) == "00abff");
  CHECK(IsLowerHex("00abff", 6));
  CHECK_FALSE(IsLowerHex("00ABFF", 6));
  CHECK_FALSE(IsLowerHex("00abf", 6));
  CHECK_FALSE(IsLowerHex("00abfg", 6));
}

TEST_CASE("timestamps are RFC 3339 UTC with milliseconds") {
  const WallTime t = WallTime(std::chrono::milliseconds(1764324000123));  // 2025-11-28T10:00:00.123Z
  CHECK(Rfc3339Utc(t) == "2025-11-28T10:00:00.123Z");
  CHECK(CompactUtc(t) == "20251128T100000.123Z");
}

TEST_CASE("Env::WriteFileAtomic replaces a file whole and leaves no temporary behind") {
  test::TempDir tmp;
  const std::string path = tmp / "state.json";
  REQUIRE(Env::Default().WriteFileAtomic(path, "one", 0644).ok());
  REQUIRE(Env::Default().WriteFileAtomic(path, "two", 0600).ok());
  CHECK(test::ReadFile(path) == "two");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  int entries = 0;
  for (auto& e : std::filesystem::directory_iterator(tmp.path())) {
    (void)e;
    ++entries;
  }
  CHECK(entries == 1);
}

TEST_CASE("Env::Rename without replacing refuses an existing target") {
  test::TempDir tmp;
  test::WriteFile(tmp / "a", "a");
  test::WriteFile(tmp / "b", "b");
  Status st = Env::Default().Rename(tmp / "a", tmp / "b", RenameMode::kNoReplace);
  CHECK_FALSE(st.ok());
  CHECK(test::ReadFile(tmp / "b") == "b");
  CHECK(Env::Default().Rename(tmp / "a", tmp / "c", RenameMode::kNoReplace).ok());
}

TEST_CASE("Env::RemoveTree removes read-only trees and ignores a missing path") {
  test::TempDir tmp;
  test::WriteFile(tmp / "t/sub/f", "x");
  ::chmod((tmp / "t/sub/f").c_str(), 0444);
  ::chmod((tmp / "t/sub").c_str(), 0555);
  ::chmod((tmp / "t").c_str(), 0555);
  REQUIRE(Env::Default().RemoveTree(tmp / "t").ok());
  CHECK_FALSE(std::filesystem::exists(tmp / "t"));
  CHECK(Env::Default().RemoveTree(tmp / "missing").ok());
}

TEST_CASE("bounded JSON refuses deep nesting and oversized text before parsing") {
  // 100,000 levels would overflow the stack inside nlohmann's recursive parser.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(JsonNestingDepth(deep) == 100000);
  auto r = ParseBoundedJson(deep, "plugin result");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("100000 levels deep") != std::string::npos);

  // Brackets inside strings, and escaped quotes, do not count.
  CHECK(JsonNestingDepth(R"({"a": "[[[[\"[[[", "b": [1, {"c": "}}}"}]})") == 3);
  auto ok = ParseBoundedJson(R"({"a": [1, 2, {"b": "]]"}]})", "x");
  REQUIRE(ok.ok());
  CHECK((*ok)["a"][2]["b"] == "]]");

  CHECK_FALSE(ParseBoundedJson(std::string(100, ' '), "x", JsonLimits{10, 64}).ok());
  auto bad = ParseBoundedJson("{\"a\": ", "x");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("not valid JSON") != std::string::npos);
}

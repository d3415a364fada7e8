// The small encodings under the signature formats: base64 flavours, SSH wire fields, OpenSSH
// patterns, DSSE's pre-authentication encoding, model_signing's path order.
#include <catch2/catch.hpp>

#include "agent/signature/base64.h"
#include "agent/signature/dsse.h"
#include "agent/signature/in_toto_statement.h"
#include "agent/signature/model_signing_manifest.h"
#include "agent/signature/ssh_pattern.h"
#include "agent/signature/ssh_wire.h"

namespace bg {
namespace {

TEST_CASE("base64 round-trips every length, padded and not") {
  std::string bytes;
  for (int n = 0; n < 70; ++n) {
    const std::string padded = Base64Encode(bytes);
    const std::string bare = Base64Encode(bytes, false);
    CHECK(Base64Decode(padded, Base64Flavor::kStandardPadded) == bytes);
    CHECK(Base64Decode(padded, Base64Flavor::kAnyAlphabet) == bytes);
    CHECK(Base64Decode(bare, Base64Flavor::kAnyAlphabet) == bytes);
    if (bare != padded) CHECK_FALSE(Base64Decode(bare, Base64Flavor::kStandardPadded));
    bytes.push_back(static_cast<char>(n * 37 + 250));
  }
  CHECK(Base64Encode("foob") == "Zm9vYg==");
}

TEST_CASE("base64 is strict about alphabet, padding and trailing bits") {
  CHECK(Base64Decode("-_8=", Base64Flavor::kAnyAlphabet) == std::string("\xfb\xff", 2));
  CHECK_FALSE(Base64Decode("-_8=", Base64Flavor::kStandardPadded));
  CHECK_FALSE(Base64Decode("+_8=", Base64Flavor::kAnyAlphabet));  // two alphabets mixed
  CHECK_FALSE(Base64Decode("Zm9v Yg==", Base64Flavor::kAnyAlphabet));
  CHECK_FALSE(Base64Decode("Zm9vYh==", Base64Flavor::kStandardPadded));  // non-zero trailing bits
  CHECK_FALSE(Base64Decode("Zm9vY===", Base64Flavor::kAnyAlphabet));
  CHECK_FALSE(Base64Decode("Zm9vYg=", Base64Flavor::kAnyAlphabet));
  CHECK_FALSE(Base64Decode("Z", Base64Flavor::kAnyAlphabet));
  CHECK_FALSE(Base64Decode("Zg==Zg==", Base64Flavor::kAnyAlphabet));
  CHECK(Base64Decode("", Base64Flavor::kStandardPadded) == std::string());
}

TEST_CASE("SSH wire: strings and mpints are bounds-checked") {
  std::string buf;
  PutString(&buf, "abc");
  PutMpint(&buf, std::string("\x00\x80\x01", 3));  // leading zero dropped, sign byte added
  SshReader in(buf);
  std::string_view s, m;
  REQUIRE(in.ReadString(&s));
  CHECK(s == "abc");
  REQUIRE(in.ReadPositiveMpint(&m));
  CHECK(m == std::string("\x80\x01", 2));
  CHECK(in.empty());

  const std::string huge_bytes("\xff\xff\xff\xff" "abc", 7);  // outlives the reader's view
  SshReader huge(huge_bytes);
  CHECK_FALSE(huge.ReadString(&s));
  CHECK(huge.remaining() == 7);  // nothing consumed on failure

  std::string bad;
  PutString(&bad, std::string("\x00\x01", 2));  // superfluous leading zero
  CHECK_FALSE(SshReader(bad).ReadPositiveMpint(&m));
  std::string negative;
  PutString(&negative, "\x80");
  CHECK_FALSE(SshReader(negative).ReadPositiveMpint(&m));
  std::string zero;
  PutString(&zero, "");
  CHECK_FALSE(SshReader(zero).ReadPositiveMpint(&m));
}

TEST_CASE("OpenSSH patterns: wildcards and negated pattern-lists") {
  CHECK(MatchSshPattern("alice@acme.com", "*@acme.com"));
  CHECK(MatchSshPattern("alice@acme.com", "alice@acme.???"));
  CHECK_FALSE(MatchSshPattern("alice@acme.community", "*@acme.com"));
  CHECK(MatchSshPattern("", "*"));
  CHECK(MatchSshPattern("abc", "a*b*c*"));
  CHECK_FALSE(MatchSshPattern("abc", "a*d"));
  CHECK(MatchSshPatternList("bob@acme.com", "alice@acme.com,bob@acme.com") == PatternListMatch::kYes);
  CHECK(MatchSshPatternList("mallory@acme.com", "*@acme.com,!mallory@*") == PatternListMatch::kNegated);
  CHECK(MatchSshPatternList("eve@evil.com", "*@acme.com") == PatternListMatch::kNo);
  // A pathological pattern stays cheap (no exponential backtracking).
  const std::string s(5000, 'a');
  CHECK_FALSE(MatchSshPattern(s, std::string(100, '*') + "b"));
}

TEST_CASE("DSSE pre-authentication encoding") {
  // The example of the DSSE v1.0.0 protocol document.
  CHECK(DssePae("http://example.com/HelloWorld", "hello world") ==
        "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(DssePae("", "") == "DSSEv1 0  0 ");
  CHECK(DssePae(kInTotoPayloadType, std::string("a\0b", 3)) ==
        std::string("DSSEv1 28 application/vnd.in-toto+json 3 a\0b", 44));
}

TEST_CASE("model_signing orders paths component by component, as Python's PurePosixPath") {
  CHECK(ModelSigningPathLess("a/b", "a.txt"));  // bytewise order would say the opposite
  CHECK_FALSE(ModelSigningPathLess("a.txt", "a/b"));
  CHECK(ModelSigningPathLess("a", "a/b"));
  CHECK(ModelSigningPathLess("B", "a"));
  CHECK_FALSE(ModelSigningPathLess("x/y", "x/y"));
  CHECK(ModelSigningPathLess("parity/expected.safetensors", "parity/inputs.safetensors"));
}

TEST_CASE("ignore paths cover themselves and what is below, by component") {
  CHECK(PathIsUnder("notes", "notes"));
  CHECK(PathIsUnder("notes/a.txt", "notes/"));
  CHECK_FALSE(PathIsUnder("notes2/a.txt", "notes"));
  CHECK_FALSE(PathIsUnder("a", ""));
}

}  // namespace
}  // namespace bg

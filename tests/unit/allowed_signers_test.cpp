// allowed_signers: OpenSSH's format parsed strictly, and the decisions ssh-keygen would make
// (principal patterns, namespaces=, valid-after=, valid-before=), compared with the real
// `ssh-keygen -Y verify` where it matters.
#include <catch2/catch.hpp>
#include <ctime>

#include "agent/signature/allowed_signers.h"
#include "agent/signature/sshsig.h"
#include "tests/support/signing_keys.h"
#include "tests/support/temp_dir.h"

namespace bg {
namespace {

using test::MakeSshKey;
using test::SshKeyPair;
using test::TempDir;
using test::WriteFile;

struct Keys {
  TempDir tmp;
  SshKeyPair alice = MakeSshKey(tmp / "keys", "alice", "ed25519");
  SshKeyPair bob = MakeSshKey(tmp / "keys", "bob", "ecdsa");
  SshPublicKey Pub(const SshKeyPair& k) const { return *SshPublicKey::FromText(k.type, k.base64); }
};

AllowedSigners Parse(const std::string& text) {
  auto r = AllowedSigners::Parse(text, "allowed_signers");
  INFO(r.status().message());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::string ParseError(const std::string& text) {
  auto r = AllowedSigners::Parse(text, "allowed_signers");
  REQUIRE_FALSE(r.ok());
  return r.status().message();
}

const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));

TEST_CASE("allowed_signers: principals, patterns and options") {
  Keys k;
  const AllowedSigners s = Parse(
      "# release keys\n"
      "\n"
      "   alice@acme.com,ci@acme.com " + k.alice.line() + " alice's laptop\n"
      "\"*@ml.acme.com\" NAMESPACES=\"bundlegate,file\",valid-after=\"20200101\" " + k.bob.line() + "\n");
  REQUIRE(s.signers().size() == 2);
  CHECK(s.signers()[0].line == 3);
  CHECK(s.signers()[0].principals == "alice@acme.com,ci@acme.com");
  CHECK(s.signers()[1].principals == "*@ml.acme.com");
  CHECK(s.signers()[1].namespaces == "bundlegate,file");

  CHECK(s.Find(k.Pub(k.alice), "bundlegate", kNow).signer == &s.signers()[0]);
  CHECK(s.Find(k.Pub(k.alice), "bundlegate", kNow, "ci@acme.com").signer != nullptr);
  CHECK(s.Find(k.Pub(k.alice), "bundlegate", kNow, "eve@acme.com").signer == nullptr);
  CHECK(s.Find(k.Pub(k.bob), "bundlegate", kNow, "trainer@ml.acme.com").signer != nullptr);
  const SignerLookup git = s.Find(k.Pub(k.bob), "git", kNow);
  CHECK(git.signer == nullptr);
  CHECK(git.key_listed);
  CHECK(git.why_not.find("namespaces") != std::string::npos);
  CHECK(git.why_not.find("allowed_signers:4") != std::string::npos);
}

TEST_CASE("allowed_signers: validity windows, in UTC or local time") {
  Keys k;
  const AllowedSigners s = Parse("a@x valid-after=\"20300101Z\" " + k.alice.line() + "\n" +
                                 "b@x valid-before=\"20200101000000Z\" " + k.bob.line() + "\n");
  const SignerLookup early = s.Find(k.Pub(k.alice), "bundlegate", kNow);
  CHECK(early.signer == nullptr);
  CHECK(early.why_not.find("not valid before 2030-01-01T00:00:00Z") != std::string::npos);
  CHECK(s.Find(k.Pub(k.alice), "bundlegate", *ParseSshTimestamp("20300101Z")).signer != nullptr);
  const SignerLookup late = s.Find(k.Pub(k.bob), "bundlegate", kNow);
  CHECK(late.signer == nullptr);
  CHECK(late.why_not.find("expired") != std::string::npos);

  CHECK(ParseSshTimestamp("20260102Z") == 1767312000);
  CHECK(ParseSshTimestamp("202601020304Z") == 1767312000 + 3 * 3600 + 4 * 60);
  CHECK(ParseSshTimestamp("20260102030405UTC") == 1767312000 + 3 * 3600 + 4 * 60 + 5);
  CHECK_FALSE(ParseSshTimestamp("20260231Z"));  // no such day
  CHECK_FALSE(ParseSshTimestamp("2026-01-02"));
  CHECK_FALSE(ParseSshTimestamp("202601021Z"));
  CHECK(ParseSshTimestamp("20260102").has_value());  // local time
}

TEST_CASE("allowed_signers: malformed lines are errors naming the line") {
  Keys k;
  CHECK(ParseError("a@x\n").find("allowed_signers:1") != std::string::npos);
  CHECK(ParseError("ok@x " + k.alice.line() + "\nb@x bogus=\"1\" " + k.alice.line() + "\n")
            .find("allowed_signers:2: unknown option") != std::string::npos);
  CHECK(ParseError("a@x namespaces=git " + k.alice.line()).find("double-quoted") != std::string::npos);
  CHECK(ParseError("a@x namespaces=\"git " + k.alice.line()).find("allowed_signers:1") != std::string::npos);
  CHECK(ParseError("a@x valid-after=\"tomorrow\" " + k.alice.line()).find("not a time") != std::string::npos);
  CHECK(ParseError("a@x valid-after=\"20300101\",valid-before=\"20200101\" " + k.alice.line())
            .find("not after") != std::string::npos);
  CHECK(ParseError("a@x ssh-ed25519 AAAA!!\n").find("base64") != std::string::npos);
  CHECK(ParseError("a@x ssh-ed25519 " + k.bob.base64).find("is ecdsa") != std::string::npos);
  CHECK(ParseError("a@x cert-authority, " + k.alice.line()).find("comma") != std::string::npos);
  CHECK(ParseError("\"a@x " + k.alice.line()).find("quote") != std::string::npos);
  CHECK(ParseError(std::string("a@x ") + '\0' + k.alice.line()).find("NUL") != std::string::npos);
  CHECK_FALSE(AllowedSigners::Parse(std::string(kMaxAllowedSignersBytes + 1, '#'), "f").ok());
}

TEST_CASE("allowed_signers: unsupported keys and cert-authority never match, with a warning") {
  Keys k;
  const AllowedSigners s = Parse("*@acme.com cert-authority " + k.alice.line() + "\n" +
                                 "x@y sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t\n");
  CHECK(s.warnings().size() == 2);
  CHECK(s.Find(k.Pub(k.alice), "bundlegate", kNow).signer == nullptr);
}

TEST_CASE("allowed_signers agrees with ssh-keygen -Y verify") {
  Keys k;
  WriteFile(k.tmp / "msg", "payload");
  const std::string sig_text = test::SshSign(k.alice, "bundlegate", k.tmp / "msg");
  const auto sig = *ParseArmoredSshSignature(sig_text);
  struct Case {
    std::string line_options;
    std::string principal;
  };
  const std::vector<Case> cases = {
      {"", "alice@acme.com"},
      {"", "bob@acme.com"},
      {"namespaces=\"git\"", "alice@acme.com"},
      {"namespaces=\"bundle*\"", "alice@acme.com"},
      {"valid-before=\"20200101Z\"", "alice@acme.com"},
      {"valid-after=\"20400101Z\"", "alice@acme.com"},
      {"valid-after=\"20200101Z\",valid-before=\"20400101Z\"", "alice@acme.com"},
  };
  for (const auto& c : cases) {
    const std::string line = "*@acme.com,!bob@acme.com " + c.line_options + (c.line_options.empty() ? "" : " ") +
                             k.alice.line() + "\n";
    WriteFile(k.tmp / "allowed", line);
    const auto ours = Parse(line).Find(sig.key, "bundlegate", kNow, c.principal);
    const auto theirs = test::RunProcess({"ssh-keygen", "-Y", "verify", "-f", k.tmp / "allowed", "-I",
                                          c.principal, "-n", "bundlegate", "-s", k.tmp / "msg.sig"},
                                         {"", {}, "payload", 60});
    INFO(line << " as " << c.principal << ": ssh-keygen says " << theirs.out << theirs.err
              << "; we say " << ours.why_not);
    CHECK((ours.signer != nullptr) == (theirs.exit_code == 0));
  }
}

}  // namespace
}  // namespace bg

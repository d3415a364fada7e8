// The lockfile policy: which findings each option produces, in which order, with which words.
#include "agent/lockfile/lockfile_policy.h"

#include <catch2/catch.hpp>

#include "tests/unit/lockfile_fixtures.h"

using namespace bg;
using namespace bg::test;

namespace {

const std::string kHash = "--hash=sha256:" + std::string(64, 'a');

std::vector<LockfileFinding> Evaluate(const std::string& requirements, const LockfilePolicy& policy,
                                      const std::string& runtime = "2.5.0") {
  return EvaluateLockfile(MustParse(requirements, "requirements.lock"), policy,
                          TorchRuntime::From(runtime));
}

std::vector<std::string> Reasons(const std::vector<LockfileFinding>& findings) {
  std::vector<std::string> out;
  for (const auto& f : findings) out.emplace_back(ReasonCode(f.reason));
  return out;
}

DenyRule Deny(const std::string& text) {
  auto rule = DenyRule::Parse(text);
  INFO(rule.status().message());
  REQUIRE(rule.ok());
  return std::move(rule).value();
}

}  // namespace

TEST_CASE("a pinned lockfile with a compatible torch has no findings") {
  CHECK(Evaluate("numpy==1.26.4\ntorch==2.5.1+cu121\n", {}).empty());
  CHECK(Evaluate(LockFixture("pip-compile-hashes.txt"), {}).empty());
}

TEST_CASE("require_pinned reports every unpinned package with why") {
  const auto findings = Evaluate("numpy>=1.26\ntorch==2.5.1\n-e ./libs/features\npandas\n", {});
  REQUIRE(Reasons(findings) == std::vector<std::string>(3, "unpinned-dependency"));
  CHECK(findings[0].package == "numpy");
  CHECK(findings[0].line == 1);
  CHECK(findings[0].detail ==
        "numpy is not pinned to one version: version range \">=1.26\" (line 1)");
  CHECK(findings[1].detail ==
        "features is not pinned to one version: editable install (-e ./libs/features) (line 3)");
  CHECK(findings[2].detail == "pandas is not pinned to one version: no version (line 4)");

  LockfilePolicy lax;
  lax.require_pinned = false;
  CHECK(Evaluate("numpy>=1.26\ntorch==2.5.1\n", lax).empty());
}

TEST_CASE("require_hashes reports every package without a hash") {
  LockfilePolicy policy;
  CHECK(Evaluate("numpy==1.26.4\ntorch==2.5.1\n", policy).empty());  // off by default
  policy.require_hashes = true;
  const auto findings =
      Evaluate("numpy==1.26.4 " + kHash + "\ntorch==2.5.1\nsympy==1.13.1\n", policy);
  REQUIRE(Reasons(findings) == std::vector<std::string>(2, "missing-hash"));
  CHECK(findings[0].detail == "torch 2.5.1 has no hash (line 2)");
  CHECK(findings[1].package == "sympy");
}

TEST_CASE("torch_compat compares major and minor and ignores local labels") {
  LockfilePolicy policy;  // same-minor
  CHECK(Evaluate("torch==2.5.1+cu121\n", policy, "2.5.0").empty());
  CHECK(Evaluate("torch==1.13.1+cpu\n", policy, "1.13.0").empty());
  auto findings = Evaluate("torch==2.5.1+cu121\n", policy, "1.13.0");
  REQUIRE(Reasons(findings) == std::vector<std::string>{"torch-incompatible"});
  CHECK(findings[0].detail ==
        "torch 2.5.1+cu121 (line 1) does not match the serving LibTorch 1.13.0 "
        "(torch_compat = same-minor: 2.5 vs 1.13)");
  CHECK(findings[0].version == "2.5.1+cu121");
  CHECK(Reasons(Evaluate("torch==2.4.1\n", policy, "2.5.0")) ==
        std::vector<std::string>{"torch-incompatible"});

  policy.torch_compat = TorchCompat::kSameMajor;
  CHECK(Evaluate("torch==2.4.1\n", policy, "2.5.0").empty());
  CHECK_THAT(Evaluate("torch==2.4.1\n", policy, "1.13.1")[0].detail,
             Catch::Contains("(torch_compat = same-major: 2 vs 1)"));

  policy.torch_compat = TorchCompat::kExact;
  CHECK(Evaluate("torch==2.5.1+cu121\n", policy, "2.5.1").empty());
  CHECK(Evaluate("torch==2.5.1\n", policy, "2.5.1.0").empty());
  CHECK(Reasons(Evaluate("torch==2.5.1\n", policy, "2.5.0")) ==
        std::vector<std::string>{"torch-incompatible"});
  CHECK(Reasons(Evaluate("torch==2.5.1rc1\n", policy, "2.5.1")) ==
        std::vector<std::string>{"torch-incompatible"});

  policy.torch_compat = TorchCompat::kAny;
  CHECK(Evaluate("torch==2.5.1\n", policy, "1.13.0").empty());
  CHECK(Evaluate("torch==2.5.1\n", policy, "").empty());
}

TEST_CASE("torch_compat without a runtime version cannot be checked") {
  const auto findings = Evaluate("numpy==1.26.4\n", {}, "");
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].reason == Reason::kTorchIncompatible);
  CHECK(findings[0].could_not_check);
  CHECK_THAT(findings[0].detail, Catch::Contains("LibTorch version is unknown"));
  CHECK_THAT(Evaluate("numpy==1.26.4\n", {}, "nightly")[0].detail,
             Catch::Contains("\"nightly\" is not a PEP 440 version"));
}

TEST_CASE("a torch without a version cannot match and a direct wheel's version is used") {
  LockfilePolicy policy;
  policy.require_pinned = false;
  const auto range = Evaluate("torch>=2.0\n", policy, "2.5.0");
  REQUIRE(range.size() == 1);
  CHECK(range[0].detail ==
        "torch (line 1) has no version to compare with the serving LibTorch 2.5.0 "
        "(torch_compat = same-minor): version range \">=2.0\"");
  const std::string wheel =
      "torch @ "
      "https://download.pytorch.org/whl/cu121/torch-2.5.1%2Bcu121-cp311-cp311-linux_x86_64.whl\n";
  CHECK(Evaluate(wheel, policy, "2.5.0").empty());
  CHECK(Reasons(Evaluate(wheel, policy, "2.4.0")) ==
        std::vector<std::string>{"torch-incompatible"});
}

TEST_CASE("deny rules match PEP 440 specifiers on normalized names") {
  LockfilePolicy policy;
  policy.deny = {Deny("torch<2.6"), Deny("numpy==1.26.0"), Deny("Typing_Extensions")};
  auto findings =
      Evaluate("numpy==1.26.4\ntorch==2.5.1+cu121\ntyping-extensions==4.12.2\n", policy);
  REQUIRE(Reasons(findings) == std::vector<std::string>(2, "denied-dependency"));
  CHECK(findings[0].detail == "torch 2.5.1+cu121 (line 2) is denied by rule \"torch<2.6\"");
  CHECK(findings[1].detail ==
        "typing-extensions 4.12.2 (line 3) is denied by rule \"Typing_Extensions\"");

  CHECK(Reasons(Evaluate("numpy==1.26.0\n", policy)) ==
        std::vector<std::string>{"denied-dependency"});
  CHECK(Evaluate("torch==2.6.0\n", policy, "2.6.0").empty());
  // <2.6 does not take in 2.6's own pre-releases (PEP 440).
  CHECK(Evaluate("torch==2.6.0rc1\n", policy, "2.6.0").empty());
}

TEST_CASE("deny rules with exclusive bounds deny what PEP 440 puts inside them") {
  // Issue 8 item 17: both of these got through, while the version next to them was denied.
  LockfilePolicy policy;
  policy.deny = {Deny("torch>2.6.0a0")};
  for (const char* v : {"2.6.0", "2.6.0+cu124", "2.6.0.post1", "2.6.0a1", "2.7.0+cpu"}) {
    INFO(v);
    CHECK(Reasons(Evaluate("torch==" + std::string(v) + "\n", policy, v)) ==
          std::vector<std::string>{"denied-dependency"});
  }
  CHECK(Evaluate("torch==2.6.0a0+cu124\n", policy, "2.6.0a0").empty());
  CHECK(Evaluate("torch==2.6.0a0.post1\n", policy, "2.6.0a0").empty());

  policy.deny = {Deny("numpy<1.26.4.post1")};
  for (const char* v : {"1.26.4rc1", "1.26.4", "1.26.4+local", "1.26.4.dev3", "1.26.3"}) {
    INFO(v);
    CHECK(Reasons(Evaluate("numpy==" + std::string(v) + "\n", policy)) ==
          std::vector<std::string>{"denied-dependency"});
  }
  CHECK(Evaluate("numpy==1.26.4.post1.dev0\n", policy).empty());
  CHECK(Evaluate("numpy==1.26.4.post1\n", policy).empty());
}

TEST_CASE("deny rules match pre-releases (they fail closed)") {
  LockfilePolicy policy;
  policy.deny = {Deny("numpy>=1.26")};
  CHECK(Reasons(Evaluate("numpy==2.0.0rc1\n", policy)) ==
        std::vector<std::string>{"denied-dependency"});
  CHECK(Reasons(Evaluate("numpy==1.27.dev0\n", policy)) ==
        std::vector<std::string>{"denied-dependency"});
  policy.deny = {Deny("numpy==1.26.*")};
  CHECK(Reasons(Evaluate("numpy==1.26.0b2\n", policy)) ==
        std::vector<std::string>{"denied-dependency"});
}

TEST_CASE("an unpinned package a deny rule names fails closed") {
  LockfilePolicy policy;
  policy.require_pinned = false;
  policy.deny = {Deny("numpy==1.26.0")};
  const auto findings = Evaluate("numpy>=1.20\n", policy);
  REQUIRE(findings.size() == 1);
  CHECK(findings[0].detail ==
        "numpy (line 1) may match deny rule \"numpy==1.26.0\": its version cannot be compared "
        "(version range \">=1.20\")");
}

TEST_CASE("findings come in the order of the lockfile reasons") {
  LockfilePolicy policy;
  policy.require_hashes = true;
  policy.deny = {Deny("numpy")};
  const auto findings = Evaluate("numpy==1.26.4\ntorch==1.13.1\npandas\n", policy, "2.5.0");
  CHECK(Reasons(findings) == std::vector<std::string>{"unpinned-dependency", "missing-hash",
                                                      "missing-hash", "missing-hash",
                                                      "torch-incompatible", "denied-dependency"});
  const Json j = findings[4].ToJson();
  CHECK(j["reason"] == "torch-incompatible");
  CHECK(j["package"] == "torch");
  CHECK(j["version"] == "1.13.1");
  CHECK(j["line"] == 2);
}

TEST_CASE("deny rules are names with specifiers only") {
  CHECK(Deny("torch>=2.0,<2.6").specifiers.specifiers().size() == 2);
  CHECK(Deny("pickle5").specifiers.empty());
  for (const char* bad : {"<2.6", "torch<<2", "torch @ https://x/torch.whl", "torch[cuda]<2",
                          "torch<2 ; python_version < '3.10'", ""}) {
    INFO(bad);
    CHECK_FALSE(DenyRule::Parse(bad).ok());
  }
}

TEST_CASE("torch_compat names parse") {
  CHECK(ParseTorchCompat("same-minor") == TorchCompat::kSameMinor);
  CHECK(ParseTorchCompat("same-major") == TorchCompat::kSameMajor);
  CHECK(ParseTorchCompat("exact") == TorchCompat::kExact);
  CHECK(ParseTorchCompat("any") == TorchCompat::kAny);
  CHECK_FALSE(ParseTorchCompat("minor").has_value());
  CHECK(TorchCompatName(TorchCompat::kExact) == "exact");
}

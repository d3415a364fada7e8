// PEP 440 versions and specifiers: the spellings, the ordering and the matching rules that pip
// (through `packaging`) applies, on the versions real lockfiles contain.
#include <catch2/catch.hpp>

#include "agent/lockfile/package_name.h"
#include "agent/lockfile/pep440_specifier.h"
#include "agent/lockfile/pep440_version.h"
#include "agent/lockfile/requirement.h"

using namespace bg;

namespace {

Pep440Version V(const std::string& text) {
  auto v = Pep440Version::Parse(text);
  INFO(text);
  REQUIRE(v.has_value());
  return *v;
}

bool Matches(const std::string& specifiers, const std::string& version) {
  auto set = Pep440SpecifierSet::Parse(specifiers);
  INFO(specifiers << " " << set.status().message());
  REQUIRE(set.ok());
  return set->Contains(V(version));
}

}  // namespace

TEST_CASE("versions normalize as PEP 440 says") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2.5.1", "2.5.1"},
      {"2.5.1+cu121", "2.5.1+cu121"},
      {"1.13.1+CPU", "1.13.1+cpu"},
      {"v1.0", "1.0"},
      {" 1.0 ", "1.0"},
      {"1!2.0", "1!2.0"},
      {"0!1.0", "1.0"},
      {"1.0-alpha.1", "1.0a1"},
      {"1.0alpha1", "1.0a1"},
      {"1.0.beta2", "1.0b2"},
      {"1.0c1", "1.0rc1"},
      {"1.0pre1", "1.0rc1"},
      {"1.0preview1", "1.0rc1"},
      {"1.0rc", "1.0rc0"},
      {"1.0-1", "1.0.post1"},
      {"1.0.post", "1.0.post0"},
      {"1.0-r4", "1.0.post4"},
      {"1.0.rev4", "1.0.post4"},
      {"1.0_post_2", "1.0.post2"},
      {"2.6.0.dev20241001", "2.6.0.dev20241001"},
      {"1.0-dev", "1.0.dev0"},
      {"1.0a1.post2.dev3", "1.0a1.post2.dev3"},
      {"1.0a.post1", "1.0a0.post1"},
      {"1.0+ubuntu-1", "1.0+ubuntu.1"},
      {"1.0+abc_007.X", "1.0+abc.7.x"},
      {"2024.8.30", "2024.8.30"},
      {"4.6.2.post1", "4.6.2.post1"},
  };
  for (const auto& [in, want] : cases) {
    INFO(in);
    CHECK(V(in).ToString() == want);
  }
}

TEST_CASE("invalid versions are rejected") {
  for (const char* bad :
       {"", "v", "1.", "1..0", "a1", "1.0+", "1.0+a..b", "1.0 extra", "1.0a.", "1.0-", "latest",
        "1.0.x", "1.0+cu121+cpu", "1!", "1.0dev.", "99999999999999999999999.0"}) {
    INFO(bad);
    CHECK_FALSE(Pep440Version::Parse(bad).has_value());
  }
}

TEST_CASE("version ordering follows PEP 440") {
  // PEP 440's own example of ordering, plus epochs and local labels.
  const std::vector<std::string> ordered = {
      "1.0.dev456",    "1.0a1",
      "1.0a2.dev456",  "1.0a12.dev456",
      "1.0a12",        "1.0b1.dev456",
      "1.0b2",         "1.0b2.post345.dev456",
      "1.0b2.post345", "1.0rc1.dev456",
      "1.0rc1",        "1.0",
      "1.0+abc.5",     "1.0+abc.7",
      "1.0+5",         "1.0.post456.dev34",
      "1.0.post456",   "1.1.dev1",
      "2.5.1",         "2.5.1+cpu",
      "2.5.1+cu121",   "2.6.0.dev20241001",
      "2.6.0rc1",      "2.6",
      "1!0.1",
  };
  for (std::size_t i = 0; i + 1 < ordered.size(); ++i) {
    INFO(ordered[i] << " < " << ordered[i + 1]);
    CHECK(V(ordered[i]) < V(ordered[i + 1]));
    CHECK(V(ordered[i + 1]) > V(ordered[i]));
  }
  CHECK(V("1.0") == V("1.0.0"));
  CHECK(V("1.0") == V("1.0.0.0"));
  CHECK(V("1.0+CU121") == V("1.0+cu121"));
  CHECK(V("1.0+cu121") != V("1.0"));
  CHECK(V("1.0+abc") < V("1.0+abc.1"));
}

TEST_CASE("Public and Base strip what they say") {
  CHECK(V("2.5.1+cu121").Public().ToString() == "2.5.1");
  CHECK(V("1!2.0rc1.post1.dev2+x").Base().ToString() == "1!2.0");
  CHECK(V("2.0rc1").is_prerelease());
  CHECK(V("2.0.dev1").is_prerelease());
  CHECK_FALSE(V("2.0.post1").is_prerelease());
  CHECK(V("2.0.post1").is_postrelease());
}

TEST_CASE("== and != ignore a local label unless the specifier has one") {
  CHECK(Matches("==2.5.1", "2.5.1+cu121"));
  CHECK(Matches("==2.5.1", "2.5.1.0"));
  CHECK(Matches("==2.5.1+cu121", "2.5.1+cu121"));
  CHECK_FALSE(Matches("==2.5.1+cu121", "2.5.1+cpu"));
  CHECK_FALSE(Matches("==2.5.1+cu121", "2.5.1"));
  CHECK_FALSE(Matches("!=2.5.1", "2.5.1+cpu"));
  CHECK(Matches("!=2.5.1+cu118", "2.5.1+cu121"));
  CHECK_FALSE(Matches("==2.5.1", "2.5.1rc1"));
}

TEST_CASE("wildcards match by release prefix") {
  CHECK(Matches("==2.5.*", "2.5.1+cu121"));
  CHECK(Matches("==2.5.*", "2.5"));
  CHECK(Matches("==2.5.*", "2.5.0rc1"));
  CHECK(Matches("==2.5.*", "2.5.1.post1"));
  CHECK_FALSE(Matches("==2.5.*", "2.6.0"));
  CHECK_FALSE(Matches("==2.5.*", "1!2.5.0"));
  CHECK(Matches("==2.5.0.*", "2.5"));
  CHECK(Matches("!=2.5.*", "2.4.1"));
  CHECK_FALSE(Matches("!=2.5.*", "2.5.1"));
  CHECK(Matches("==1!2.*", "1!2.3"));
}

TEST_CASE("less than excludes pre-releases of the bound itself") {
  CHECK(Matches("<2.6", "2.5.1+cu121"));
  CHECK(Matches("<2.6", "2.5.1"));
  CHECK(Matches("<2.6", "2.6.0rc1") == false);
  CHECK(Matches("<2.6.post1", "2.6.0rc1"));
  CHECK(Matches("<2.6", "2.6.0.dev20241001") == false);
  CHECK(Matches("<2.6", "2.5.0rc1"));
  CHECK(Matches("<2.6rc2", "2.6rc1"));
  CHECK_FALSE(Matches("<2.6", "2.6"));
  CHECK_FALSE(Matches("<2.6", "2.6+cpu"));
}

TEST_CASE("greater than excludes post-releases and local versions of the bound itself") {
  CHECK(Matches(">1.13", "2.0"));
  CHECK_FALSE(Matches(">1.13", "1.13.0"));
  CHECK_FALSE(Matches(">1.13.1", "1.13.1.post1"));
  CHECK(Matches(">1.13.1.post1", "1.13.1.post2"));
  CHECK_FALSE(Matches(">1.13.1", "1.13.1+cu117"));
  CHECK(Matches(">1.13.1", "1.13.2+cu117"));
}

// The cases where PEP 440's wording is easy to misread, each checked against packaging 26.1
// (pypa/packaging#1140, #1141, #1097, #788) and the spec's text. Debian 12's packaging 23.0
// answers the "changed" rows the other way; the differential test (pep440_oracle_test.py)
// covers the rest against it.
TEST_CASE("exclusive comparisons: the tricky cases") {
  struct Row {
    const char* spec;
    const char* version;
    bool inside;
  };
  const Row rows[] = {
      // > V: only V's own post-releases and local versions are left out...
      {">1.0", "1.0+local", false},
      {">1.0", "1.0.post0", false},
      {">1.0", "1.0.post1+local", false},
      {">1.0", "1.0.post1.dev0", false},
      {">1.0", "1.0.1.dev0", true},
      {">1.0", "1.0.1+local", true},
      {">1!1.0", "1.0.post1", false},
      {">1.0", "1!1.0", true},
      // ... so a pre-release or dev V does not keep out its release's post or local versions
      // (changed: packaging 23 compared base versions).
      {">2.6.0a0", "2.6.0+cu124", true},
      {">2.6.0a0", "2.6.0", true},
      {">2.6.0a0", "2.6.0.post1", true},
      {">2.6.0a0", "2.6.0a0+local", false},
      {">2.6.0a0", "2.6.0a0.post1", false},
      {">2.6.0a0", "2.6.0a0.post1.dev1", false},
      {">2.6.0a0", "2.6.0a1", true},
      {">1.0.dev1", "1.0.post0", true},
      {">1.0.dev1", "1.0+local", true},
      {">1.0.dev1", "1.0.dev1+local", false},
      {">1.0.dev1", "1.0.dev2", true},
      {">4.1.0a2.dev1234", "4.1.0a2.dev1235+local", true},
      {">4.1.0a2.dev1234", "4.1.0a2.dev1234+local", false},
      // > V.postN: later post-releases (and their dev releases) are in, V.postN+local is not.
      {">1.0.post1", "1.0.post2", true},
      {">1.0.post1", "1.0.post2.dev0", true},
      {">1.0.post1", "1.0.post1+local", false},
      {">1.0.post1", "1.0.post2+local", true},
      {">1.0.post0", "1.0.post1.dev0", true},
      // < V: V's own pre-releases are out unless V is one...
      {"<1.0", "1.0rc1", false},
      {"<1.0", "1.0.dev0", false},
      {"<1.0", "1.0a1+local", false},
      {"<1.0", "0.9.post1+local", true},
      {"<1.0", "1.0+local", false},
      {"<1.0rc2", "1.0rc1", true},
      {"<1.0rc2", "1.0rc1.post1", true},
      {"<1.0rc2", "1.0.dev5", true},
      {"<1.0rc2", "1.0rc2.dev1", true},
      {"<1.0.dev2", "1.0.dev1", true},
      {"<3.0.0a8", "3.0.0a7", true},
      // ... and the pre-releases of V.postN are V.postN.devM only (changed: packaging 23
      // left out every pre-release of 1.26.4).
      {"<1.26.4.post1", "1.26.4rc1", true},
      {"<1.26.4.post1", "1.26.4.dev0", true},
      {"<1.26.4.post1", "1.26.4", true},
      {"<1.26.4.post1", "1.26.4+local", true},
      {"<1.26.4.post1", "1.26.4.post1.dev0", false},
      {"<1.26.4.post1", "1.26.4.post0", true},
      // Trailing zeros are one release; epochs outrank everything.
      {"<1.0.0", "1.0rc1", false},
      {">1.0.0", "1.0.post1", false},
      {"<1!0.1", "5.0", true},
      {">1!0.1", "5.0", false},
      // ~= and wildcards are ranges that end before the next release's dev0.
      {"~=1.4.2", "1.5.dev0", false},
      {"~=1.4.2", "1.4.99+local", true},
      {"~=1.4.2", "1.4.2.dev1", false},
      {"~=1.4.2rc1", "1.4.2rc1", true},
      {"==1.0.0.*", "1.0rc1", true},
      {"==1.0.*", "1.1.dev0", false},
      {"!=1.0.*", "1.0.post1+local", false},
  };
  for (const Row& r : rows) {
    INFO(r.spec << " contains " << r.version << " should be " << r.inside);
    CHECK(Matches(r.spec, r.version) == r.inside);
  }
}

TEST_CASE("inclusive bounds compare the public version") {
  CHECK(Matches("<=2.5.1", "2.5.1+cu121"));
  CHECK(Matches(">=2.5.1", "2.5.1+cu121"));
  CHECK(Matches(">=2.5", "2.5.0"));
  CHECK_FALSE(Matches(">=2.5", "2.5.0rc1"));
  CHECK(Matches(">=2.0,<2.6", "2.5.1"));
  CHECK_FALSE(Matches(">=2.0,<2.6", "1.13.1"));
  CHECK_FALSE(Matches(">=2.0, <2.6", "2.6.0"));
}

TEST_CASE("compatible release is a lower bound and a prefix") {
  CHECK(Matches("~=2.2", "2.3"));
  CHECK_FALSE(Matches("~=2.2", "3.0"));
  CHECK_FALSE(Matches("~=2.2", "2.1"));
  CHECK(Matches("~=1.4.5", "1.4.9"));
  CHECK_FALSE(Matches("~=1.4.5", "1.5.0"));
  CHECK(Matches("~=2.2.post3", "2.9"));
  CHECK(Matches("~=1.4.5a4", "1.4.5"));
  CHECK(Matches("~=2.5.1", "2.5.3+cu121"));
}

TEST_CASE("arbitrary equality compares the text") {
  CHECK(Matches("===2.5.1", "2.5.1"));
  CHECK_FALSE(Matches("===2.5.1", "2.5.1.0"));
  CHECK(Matches("===2.5.1+CU121", "2.5.1+cu121"));
}

TEST_CASE("bad specifiers say why") {
  for (const char* bad : {"2.5", "=>2.5", "==", "~=2", "<2.6+cpu", ">=2.*", "==2.5.*rc1",
                          "==2.5rc1.*", "~=2.5.*", ">=1.0,", "==2.5.1+", "=== two words"}) {
    INFO(bad);
    auto s = Pep440SpecifierSet::Parse(bad);
    CHECK_FALSE(s.ok());
    CHECK_FALSE(s.status().message().empty());
  }
  CHECK(Pep440SpecifierSet::Parse("").ok());
  CHECK(Pep440SpecifierSet::Parse("  ")->empty());
  CHECK(Pep440SpecifierSet::Parse(" >= 2.0 , < 2.6 ")->ToString() == ">=2.0,<2.6");
}

TEST_CASE("package names normalize per PEP 503") {
  CHECK(NormalizePackageName("Typing_Extensions") == "typing-extensions");
  CHECK(NormalizePackageName("zope.interface") == "zope-interface");
  CHECK(NormalizePackageName("A-_.-B") == "a-b");
  CHECK(NormalizePackageName("torch") == "torch");
  CHECK(IsValidPackageName("nvidia-cublas-cu12"));
  CHECK_FALSE(IsValidPackageName("-torch"));
  CHECK_FALSE(IsValidPackageName("torch_"));
  CHECK_FALSE(IsValidPackageName("to rch"));
}

TEST_CASE("requirements parse as PEP 508") {
  auto r = ParseRequirement("requests[security, socks] >=2.31,<3 ; python_version >= \"3.8\"");
  REQUIRE(r.ok());
  CHECK(r->name == "requests");
  CHECK(r->extras == std::vector<std::string>{"security", "socks"});
  CHECK(r->specifier_text == ">=2.31,<3");
  CHECK(r->marker == "python_version >= \"3.8\"");

  auto url =
      ParseRequirement("mylib @ git+https://github.com/acme/mylib@v1 ; sys_platform == 'linux'");
  REQUIRE(url.ok());
  CHECK(url->url == "git+https://github.com/acme/mylib@v1");
  CHECK(url->marker == "sys_platform == 'linux'");

  auto paren = ParseRequirement("numpy (==1.26.4)");
  REQUIRE(paren.ok());
  CHECK(paren->specifiers.specifiers().at(0).is_pin());

  auto bare = ParseRequirement("pandas");
  REQUIRE(bare.ok());
  CHECK(bare->specifiers.empty());

  for (const char* bad :
       {"", "==1.0", "numpy==", "numpy[extra", "numpy @", "numpy ; ", "numpy==1.0 junk"}) {
    INFO(bad);
    CHECK_FALSE(ParseRequirement(bad).ok());
  }
}

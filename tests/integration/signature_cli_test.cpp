// Signed bundles through the command line: `bundlegate check` with a signature check, and the
// two sides of `bundlegate signature` (verify, sign), against keys, certificates and signatures
// made at test time by ssh-keygen, openssl and the Python producer.
#include <catch2/catch.hpp>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "tests/support/bundle_writer.h"
#include "tests/support/process.h"
#include "tests/support/signing_keys.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  TempDir tmp;
  SshKeyPair alice = MakeSshKey(tmp / "keys", "alice", "ed25519");
  std::string bundle = WriteBundle(tmp / "bundle");
  const TestPki& pki = SharedTestPki();

  Fixture() { WriteFile(tmp / "allowed_signers", "release@acme.com " + alice.line() + "\n"); }

  std::string Config(const std::string& checks) const {
    WriteFile(tmp / "bg.toml", "require_parity = false\n[paths]\nroot = \"var\"\n\n" + checks);
    return tmp / "bg.toml";
  }
  std::string SignatureConfig() const {
    return Config("[[checks]]\nkind = \"signature\"\nallowed_signers = \"allowed_signers\"\n"
                  "trusted_keys = [\"" + pki.Path("leaf.pub.pem") + "\"]\n"
                  "certificate_anchors = [\"" + pki.Path("root.pem") + "\"]\n");
  }
  json Check() const {
    const auto r = RunBundlegate({"check", bundle, "--config", SignatureConfig(), "--json"});
    INFO(r.out << r.err);
    REQUIRE((r.exit_code == 0 || r.exit_code == 1));
    json j = json::parse(r.out);
    j["exit_code"] = r.exit_code;
    return j;
  }
};

}  // namespace

TEST_CASE("bundlegate check: each kind of good signature passes, naming the signer") {
  Fixture f;
  SECTION("ssh") {
    RequireSigned(SignBundle(f.bundle, {"--ssh-key", f.alice.private_path}));
    const json j = f.Check();
    CHECK(j["exit_code"] == 0);
    CHECK(j["signer"]["principal"] == "release@acme.com");
  }
  SECTION("model_signing, key") {
    RequireSigned(SignBundle(f.bundle, {"--sign-key", f.pki.Path("leaf.key")}));
    const json j = f.Check();
    CHECK(j["exit_code"] == 0);
    CHECK(j["signer"]["method"] == "key");
  }
  SECTION("model_signing, certificate") {
    RequireSigned(SignBundle(f.bundle, {"--sign-key", f.pki.Path("leaf256.key"), "--sign-cert",
                                        f.pki.Path("leaf256.pem"), "--sign-chain", f.pki.Path("int.pem")}));
    const json j = f.Check();
    CHECK(j["exit_code"] == 0);
    CHECK(j["signer"]["subject"] == "O=Acme,CN=release-signer-leaf256");
  }
  SECTION("both") {
    RequireSigned(SignBundle(f.bundle, {"--ssh-key", f.alice.private_path, "--sign-key", f.pki.Path("leaf.key")}));
    const json j = f.Check();
    CHECK(j["exit_code"] == 0);
  }
  SECTION("unsigned") {
    const json j = f.Check();
    CHECK(j["exit_code"] == 1);
    CHECK(j["reason"] == "signature-missing");
  }
}

TEST_CASE("bundlegate check: the signature check must come first") {
  Fixture f;
  const std::string config = f.Config(
      "[[checks]]\nkind = \"lockfile\"\n\n[[checks]]\nkind = \"signature\"\nformats = [\"ssh\"]\n"
      "allowed_signers = \"allowed_signers\"\n");
  const auto r = RunBundlegate({"check", f.bundle, "--config", config});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bg.toml:"));
  CHECK_THAT(r.err, Catch::Contains("must be the first [[checks]] entry"));
}

TEST_CASE("bundlegate signature verify: model_signing key and certificate methods") {
  Fixture f;
  RequireSigned(SignBundle(f.bundle, {"--sign-key", f.pki.Path("leaf.key")}));
  auto verify = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"signature", "verify", f.bundle};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunBundlegate(argv);
  };
  const auto good = verify({"--public-key", f.pki.Path("leaf.pub.pem")});
  INFO(good.out << good.err);
  CHECK(good.exit_code == 0);
  CHECK_THAT(good.out, Catch::Contains("Verification succeeded"));
  CHECK(verify({"--public-key", f.pki.Path("leaf256.pub.pem")}).exit_code == 1);
  CHECK(verify({}).exit_code == 2);
  CHECK(verify({"--public-key", f.pki.Path("leaf.pub.pem"), "--certificate-chain", f.pki.Path("root.pem")}).exit_code == 2);
  CHECK(verify({"--public-key", "/nonexistent.pem"}).exit_code == 2);
  const auto j = json::parse(verify({"--public-key", f.pki.Path("leaf.pub.pem"), "--json"}).out);
  CHECK(j["verified"] == true);

  WriteFile(f.bundle + "/smuggled.txt", "x");
  const auto added = verify({"--public-key", f.pki.Path("leaf.pub.pem")});
  CHECK(added.exit_code == 1);
  CHECK_THAT(added.err, Catch::Contains("smuggled.txt: not signed"));
  CHECK(verify({"--public-key", f.pki.Path("leaf.pub.pem"), "--ignore-paths", f.bundle + "/smuggled.txt"}).exit_code == 0);

  RequireSigned(SignBundle(f.bundle, {"--sign-key", f.pki.Path("leaf.key"), "--sign-cert", f.pki.Path("leaf.pem"),
                                      "--sign-chain", f.pki.Path("int.pem")}));
  CHECK(verify({"--certificate-chain", f.pki.Path("root.pem")}).exit_code == 0);
  CHECK(verify({"--certificate-chain", f.pki.Path("other_root.pem")}).exit_code == 1);
}

TEST_CASE("bundlegate signature verify accepts model directories as model_signing verifies them") {
  Fixture f;
  WriteFile(f.tmp / "model/weights.bin", "weights");
  WriteFile(f.tmp / "model/config.json", "{}");
  WriteFile(f.tmp / "model/.gitattributes", "*.bin filter=lfs\n");
  // Sign as `model_signing sign key` does: git's files are left out.
  const auto signed_ = RunBundlegate({"signature", "sign", f.tmp / "model", "--private-key", f.pki.Path("leaf.key"),
                                      "--ignore-paths", f.tmp / "model/.gitattributes"});
  INFO(signed_.out << signed_.err);
  REQUIRE(signed_.exit_code == 0);
  CHECK(RunBundlegate({"signature", "verify", f.tmp / "model", "--public-key", f.pki.Path("leaf.pub.pem")}).exit_code == 0);
  // git's files are not expected to be signed, unless asked (the signer's own ignore_paths,
  // here .gitattributes, always are: they are part of what was signed).
  WriteFile(f.tmp / "model/.gitignore", "*.tmp\n");
  CHECK(RunBundlegate({"signature", "verify", f.tmp / "model", "--public-key", f.pki.Path("leaf.pub.pem")}).exit_code == 0);
  CHECK(RunBundlegate({"signature", "verify", f.tmp / "model", "--public-key", f.pki.Path("leaf.pub.pem"),
                       "--no-ignore-git-paths"}).exit_code == 1);
  // A single file.
  WriteFile(f.tmp / "one.bin", "a single-file model");
  REQUIRE(RunBundlegate({"signature", "sign", f.tmp / "one.bin", "--private-key", f.pki.Path("leaf.key"),
                         "--signature", f.tmp / "one.sig"}).exit_code == 0);
  CHECK(RunBundlegate({"signature", "verify", f.tmp / "one.bin", "--signature", f.tmp / "one.sig", "--public-key",
                       f.pki.Path("leaf.pub.pem")}).exit_code == 0);
  AppendFile(f.tmp / "one.bin", "!");
  CHECK(RunBundlegate({"signature", "verify", f.tmp / "one.bin", "--signature", f.tmp / "one.sig", "--public-key",
                       f.pki.Path("leaf.pub.pem")}).exit_code == 1);
}

TEST_CASE("bundlegate signature: SSH, both sides, interoperating with ssh-keygen") {
  Fixture f;
  const auto sign = RunBundlegate({"signature", "sign", f.bundle, "--ssh-key", f.alice.private_path});
  INFO(sign.out << sign.err);
  REQUIRE(sign.exit_code == 0);
  // ssh-keygen accepts our signature...
  const auto theirs = RunProcess({"ssh-keygen", "-Y", "verify", "-f", f.tmp / "allowed_signers", "-I", "release@acme.com",
                                  "-n", "bundlegate", "-s", f.bundle + "/bundle.toml.sig"},
                                 {"", {}, ReadFile(f.bundle + "/bundle.toml"), 60});
  INFO(theirs.out << theirs.err);
  CHECK(theirs.exit_code == 0);
  // ...and we accept ssh-keygen's.
  SshSign(f.alice, "bundlegate", f.bundle + "/bundle.toml");
  auto verify = [&](const std::string& identity) {
    return RunBundlegate({"signature", "verify", f.bundle, "--allowed-signers", f.tmp / "allowed_signers",
                          "--identity", identity});
  };
  CHECK(verify("release@acme.com").exit_code == 0);
  CHECK(verify("someone@else").exit_code == 1);
  CHECK(RunBundlegate({"signature", "verify", f.bundle, "--allowed-signers", f.tmp / "allowed_signers"}).exit_code == 2);
  WriteFile(f.bundle + "/model.pt", "tampered");  // bundle.toml still verifies; the files do not
  const auto tampered = verify("release@acme.com");
  CHECK(tampered.exit_code == 1);
  CHECK_THAT(tampered.err, Catch::Contains("not what it lists"));
}

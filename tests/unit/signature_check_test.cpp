// The "signature" check through the real pipeline: bundles written by the test writer, signed
// with ssh-keygen and the Python producer at test time; what passes, what is rejected and why,
// and that a failed signature stops every check after it.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>

#include "agent/signature/signature_check.h"
#include "agent/signature/sigstore_bundle.h"
#include "agent/signature/sshsig.h"
#include "agent/lockfile/lockfile_check.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/signing_keys.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/check_options.h"

namespace bg {
namespace {

using test::ReadFile;
using test::SharedTestPki;
using test::TempDir;
using test::WriteFile;

struct Fixture {
  TempDir tmp;
  test::SshKeyPair alice = test::MakeSshKey(tmp / "keys", "alice", "ed25519");
  test::SshKeyPair mallory = test::MakeSshKey(tmp / "keys", "mallory", "ecdsa");
  std::string allowed = tmp / "allowed_signers";
  std::string dir;

  Fixture() {
    WriteFile(allowed, "release@acme.com " + alice.line() + "\n");
    dir = test::WriteBundle(tmp / "bundle");
  }
  std::string SshTable(const std::string& extra = "") const {
    return "kind = \"signature\"\nformats = [\"ssh\"]\nallowed_signers = \"" + allowed + "\"\n" + extra;
  }
  std::string KeyTable(const std::string& extra = "") const {
    return "kind = \"signature\"\nformats = [\"model_signing\"]\ntrusted_keys = [\"" +
           SharedTestPki().Path("leaf.pub.pem") + "\"]\n" + extra;
  }
  void SshSign(const test::SshKeyPair& key, const std::string& ns = "bundlegate") const {
    test::SshSign(key, ns, dir + "/bundle.toml");
  }
  void ModelSign(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"--sign-key", SharedTestPki().Path("leaf.key")};
    args.insert(args.end(), extra.begin(), extra.end());
    test::RequireSigned(test::SignBundle(dir, args));
  }
};

CheckResult Run(const std::string& table, const std::string& dir) {
  auto built = test::BuildCheckFrom(MakeSignatureCheck, table);
  INFO(built.errors);
  REQUIRE(built.check != nullptr);
  return test::RunOnBundle(built.check, dir);
}

#define CHECK_RESULT(r, code, fragment)                                    \
  do {                                                                     \
    INFO(DumpJson((r).ToJson(), 2));                                       \
    CHECK((r).reason == (code));                                           \
    CHECK((r).summary.find(fragment) != std::string::npos);                \
  } while (0)

TEST_CASE("signature check, ssh: a trusted signer passes, with the principal in details") {
  Fixture f;
  f.SshSign(f.alice);
  const CheckResult r = Run(f.SshTable(), f.dir);
  INFO(DumpJson(r.ToJson(), 2));
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.details["signer"]["principal"] == "release@acme.com");
  CHECK(r.details["signer"]["identity"] == "release@acme.com");
  CHECK(r.details["signer"]["verified"] == true);
  CHECK(r.details["signer"]["key"].get<std::string>().rfind("SHA256:", 0) == 0);
  CHECK(r.summary.find("bundle.toml.sig signed by release@acme.com") != std::string::npos);
}

TEST_CASE("signature check, ssh: every tampering and every untrusted signer is rejected") {
  Fixture f;
  SECTION("unsigned") {
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signature-missing", "not signed");
  }
  SECTION("unsigned, required = false") {
    CHECK(Run(f.SshTable("required = false\n"), f.dir).verdict == Verdict::kPass);
  }
  SECTION("a byte changed in bundle.toml") {
    f.SshSign(f.alice);
    test::ReplaceInFile(f.dir + "/bundle.toml", "version = \"1.0.0\"", "version = \"1.0.1\"");
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signature-invalid", "does not verify");
  }
  SECTION("a byte flipped in the signature") {
    f.SshSign(f.alice);
    std::string sig = ReadFile(f.dir + "/bundle.toml.sig");
    const std::size_t at = sig.size() - 40;
    sig[at] = sig[at] == 'A' ? 'B' : 'A';
    WriteFile(f.dir + "/bundle.toml.sig", sig);
    CHECK(Run(f.SshTable(), f.dir).reason == "signature-invalid");
  }
  SECTION("a signed file changed after signing") {
    f.SshSign(f.alice);
    WriteFile(f.dir + "/model.pt", "tampered");
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signature-invalid", "model.pt: size-mismatch");
  }
  SECTION("a file added after signing") {
    f.SshSign(f.alice);
    WriteFile(f.dir + "/evil.py", "import os");
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signature-invalid", "evil.py: unlisted-file");
  }
  SECTION("a key not in allowed_signers") {
    f.SshSign(f.mallory);
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signer-untrusted", "not listed");
  }
  SECTION("a principal not asked for") {
    f.SshSign(f.alice);
    CHECK_RESULT(Run(f.SshTable("principals = [\"ci@acme.com\"]\n"), f.dir), "signer-untrusted", "ci@acme.com");
    CHECK(Run(f.SshTable("principals = [\"ci@acme.com\", \"release@acme.com\"]\n"), f.dir).verdict == Verdict::kPass);
  }
  SECTION("an allowed signer outside its namespaces") {
    WriteFile(f.allowed, "release@acme.com namespaces=\"git\" " + f.alice.line() + "\n");
    f.SshSign(f.alice);
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signer-untrusted", "namespaces \"git\"");
  }
  SECTION("a signature made for another namespace") {
    f.SshSign(f.alice, "git");
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signature-invalid", "namespace \"git\"");
    CHECK(Run(f.SshTable("namespace = \"git\"\n"), f.dir).verdict == Verdict::kPass);
  }
  SECTION("an allowed signer outside its validity window") {
    WriteFile(f.allowed, "release@acme.com valid-before=\"20200101Z\" " + f.alice.line() + "\n");
    f.SshSign(f.alice);
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signer-untrusted", "expired");
    WriteFile(f.allowed, "release@acme.com valid-after=\"20990101Z\" " + f.alice.line() + "\n");
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signer-untrusted", "not valid before");
  }
  SECTION("a huge signature file") {
    WriteFile(f.dir + "/bundle.toml.sig", std::string(kMaxArmoredSignatureBytes + 10, 'A'));
    CHECK(Run(f.SshTable(), f.dir).reason == "signature-invalid");
  }
  SECTION("a malformed signature file") {
    WriteFile(f.dir + "/bundle.toml.sig", "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n");
    CHECK_RESULT(Run(f.SshTable(), f.dir), "signature-invalid", "SSHSIG");
  }
}

TEST_CASE("signature check, model_signing: key method") {
  Fixture f;
  SECTION("signed") {
    f.ModelSign();
    const CheckResult r = Run(f.KeyTable(), f.dir);
    INFO(DumpJson(r.ToJson(), 2));
    CHECK(r.verdict == Verdict::kPass);
    CHECK(r.details["signer"]["method"] == "key");
    CHECK(r.details["signer"]["key"].get<std::string>().rfind("SHA256:", 0) == 0);
  }
  SECTION("a file added after signing") {
    f.ModelSign();
    WriteFile(f.dir + "/sneaky/loader.py", "x");
    CHECK_RESULT(Run(f.KeyTable(), f.dir), "signature-invalid", "sneaky/loader.py: not signed");
  }
  SECTION("an ignore path cannot smuggle a file past the gate") {
    f.ModelSign();
    WriteFile(f.dir + "/notes/loader.py", "x");
    // model.sig does not cover notes/, as configured, but bundle.toml does not list the file.
    CHECK_RESULT(Run(f.KeyTable("ignore_paths = [\"notes\"]\n"), f.dir), "signature-invalid",
                 "notes/loader.py: unlisted-file");
  }
  SECTION("an ignored file listed in bundle.toml is still bound by its hash") {
    test::BundleSpec spec;
    spec.files["notes/readme.txt"] = "read me\n";
    std::filesystem::remove_all(f.dir);
    f.dir = test::WriteBundle(f.tmp / "bundle", spec);
    f.ModelSign({"--ignore-path", "notes"});
    CHECK(Run(f.KeyTable("ignore_paths = [\"notes\"]\n"), f.dir).verdict == Verdict::kPass);
    CHECK(Run(f.KeyTable(), f.dir).reason == "signature-invalid");  // not allowed by the config
    WriteFile(f.dir + "/notes/readme.txt", "changed\n");
    CHECK_RESULT(Run(f.KeyTable("ignore_paths = [\"notes\"]\n"), f.dir), "signature-invalid",
                 "notes/readme.txt: hash-mismatch");
  }
  SECTION("model.sig larger than any signature") {
    WriteFile(f.dir + "/model.sig", std::string(kMaxSigstoreBundleBytes + 1, ' '));
    CHECK(Run(f.KeyTable(), f.dir).reason == "signature-invalid");
  }
}

TEST_CASE("signature check: both formats, each verified") {
  Fixture f;
  const std::string both = "kind = \"signature\"\nallowed_signers = \"" + f.allowed + "\"\ntrusted_keys = [\"" +
                           SharedTestPki().Path("leaf.pub.pem") + "\"]\n";
  test::RequireSigned(test::SignBundle(f.dir, {"--ssh-key", f.alice.private_path, "--sign-key", SharedTestPki().Path("leaf.key")}));
  const CheckResult r = Run(both, f.dir);
  INFO(DumpJson(r.ToJson(), 2));
  CHECK(r.verdict == Verdict::kPass);
  CHECK(r.details["signatures"].size() == 2);
  SECTION("a bad SSH signature is not outvoted by a good model.sig") {
    f.SshSign(f.mallory);  // replaces bundle.toml.sig, which model.sig signed too
    const CheckResult bad = Run(both, f.dir);
    CHECK(bad.verdict == Verdict::kFail);
  }
  SECTION("a format not configured is reported, not verified") {
    const CheckResult ssh_only = Run(f.SshTable(), f.dir);
    CHECK(ssh_only.verdict == Verdict::kPass);
    CHECK(ssh_only.details["not_verified"][0] == "model.sig");
  }
}

TEST_CASE("signature check: a failure stops every later check, and the report names the signer") {
  Fixture f;
  f.SshSign(f.mallory);
  auto sig = test::BuildCheckFrom(MakeSignatureCheck, f.SshTable());
  auto lock = test::BuildCheckFrom(MakeLockfileCheck, "kind = \"lockfile\"\n", "1.13.1");
  REQUIRE(sig.check);
  REQUIRE(lock.check);
  CheckPipeline::Options options;
  options.require_parity = false;
  const CheckPipeline pipeline(options, {sig.check, lock.check});
  BundleReport report = pipeline.Run(f.dir);
  INFO(DumpJson(report.ToJson(), 2));
  CHECK_FALSE(report.passed);
  CHECK(report.reason == "signer-untrusted");
  CHECK(report.results.back().check == "lockfile");
  CHECK(report.results.back().verdict == Verdict::kSkip);
  CHECK(report.results.back().summary.find("signature check failed") != std::string::npos);
  const auto signature = std::find_if(report.results.begin(), report.results.end(),
                                      [](const CheckResult& c) { return c.check == "signature"; });
  REQUIRE(signature != report.results.end());
  CHECK(report.signer["key"] == signature->details["signer"]["key"]);
  CHECK(report.ToJson()["signer"]["verified"] == false);

  f.SshSign(f.alice);
  report = pipeline.Run(f.dir);
  CHECK(report.results.back().verdict != Verdict::kSkip);
  CHECK(report.signer["principal"] == "release@acme.com");
}

TEST_CASE("signature check: options are validated when the config loads") {
  Fixture f;
  auto errors = [](const std::string& table) { return test::BuildCheckFrom(MakeSignatureCheck, table).errors; };
  CHECK(errors("kind = \"signature\"\nformats = [\"pgp\"]\n").find("unknown format") != std::string::npos);
  CHECK(errors("kind = \"signature\"\nformats = [\"model_signing\"]\n").find("needs trusted_keys") != std::string::npos);
  CHECK(errors("kind = \"signature\"\nformats = [\"ssh\"]\n").find("needs allowed_signers") != std::string::npos);
  CHECK(errors(f.SshTable("trusted_keys = [\"x\"]\n")).find("has no effect") != std::string::npos);
  CHECK(errors(f.KeyTable("ignore_paths = [\"bundle.toml\"]\n")).find("bundle.toml unsigned") != std::string::npos);
  CHECK(errors(f.KeyTable("ignore_paths = [\"../x\"]\n")).find("safe relative") != std::string::npos);
  CHECK(errors(f.KeyTable("certificate_validity = \"whenever\"\n")).find("issuance") != std::string::npos);
  CHECK(errors("kind = \"signature\"\nformats = [\"model_signing\"]\ntrusted_keys = [\"/nonexistent.pem\"]\n")
            .find("/nonexistent.pem") != std::string::npos);
  WriteFile(f.allowed, "# ok\nrelease@acme.com oops " + f.alice.line() + "\n");
  CHECK(errors(f.SshTable()).find("allowed_signers:2") != std::string::npos);
  CHECK(errors(f.KeyTable("bogus = 1\n")).find("bogus") != std::string::npos);
}

}  // namespace
}  // namespace bg

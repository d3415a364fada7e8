// Signed training commits: real git with gpg.format = ssh signs the commits; the git check's
// require_signed_commit verifies them with libgit2's signature extraction and our SSHSIG code,
// and agrees with `git verify-commit` (gpg.ssh.allowedSignersFile) on every case.
#include <catch2/catch.hpp>

#include "tests/support/signing_keys.h"
#include "tests/unit/git_test_util.h"

using namespace bg;
using namespace bg::test;

namespace {

struct SignedRepo {
  TempDir tmp;
  TrainingRepo t = MakeTrainingRepo(tmp / "src");
  SshKeyPair trusted = MakeSshKey(tmp / "keys", "trainer", "ed25519");
  SshKeyPair stranger = MakeSshKey(tmp / "keys", "stranger", "ecdsa");
  std::string allowed = tmp / "allowed_signers";

  SignedRepo() { WriteFile(allowed, "trainer@acme.com namespaces=\"git\" " + trusted.line() + "\n"); }

  // A signed commit on main (the lockfile and spec unchanged since A), returning its id.
  std::string CommitSigned(const SshKeyPair& key, const std::string& message) {
    WriteFile(t.repo.path() + "/notes.txt", message + "\n");
    t.repo.Git({"add", "notes.txt"});
    t.repo.Git({"-c", "gpg.format=ssh", "-c", "user.signingkey=" + key.private_path, "commit", "-q", "-S",
                "-m", message});
    return t.repo.RevParse("HEAD");
  }

  // What git itself says: 0 for a good, trusted signature.
  int GitVerifyCommit(const std::string& commit) const {
    return t.repo.TryGit({"-c", "gpg.ssh.allowedSignersFile=" + allowed, "verify-commit", commit}).exit_code;
  }

  CheckResult Check(const std::string& commit) {
    auto check = GitCheckFor(tmp.path(), RepoOption(t.repo.path()) + "require_signed_commit = true\n" +
                                             "allowed_signers = \"" + allowed + "\"\n");
    BundleSpec spec;
    spec.files[spec.lockfile] = t.new_lockfile;
    return RunGitCheck(check, BundleAt(tmp / ("b-" + commit.substr(0, 8)), commit, spec));
  }
};

}  // namespace

TEST_CASE("a commit signed by a trusted SSH key passes, naming the signer") {
  SignedRepo r;
  const std::string commit = r.CommitSigned(r.trusted, "Train with a signed commit");
  const CheckResult result = r.Check(commit);
  INFO(DumpJson(result.ToJson(), 2));
  CHECK(result.verdict == Verdict::kPass);
  CHECK(result.details["commit_signature"]["signature"] == "verified");
  CHECK(result.details["commit_signature"]["signer"]["principal"] == "trainer@acme.com");
  CHECK_THAT(result.summary, Catch::Contains("signed by a trusted key"));
  CHECK(r.GitVerifyCommit(commit) == 0);
}

TEST_CASE("an unsigned commit is commit-unsigned") {
  SignedRepo r;
  const CheckResult result = r.Check(r.t.c);
  CHECK(result.reason == "commit-unsigned");
  CHECK(result.details["commit_signature"]["signature"] == "none");
  CHECK(r.GitVerifyCommit(r.t.c) != 0);
}

TEST_CASE("a commit signed by an untrusted key is commit-signer-untrusted") {
  SignedRepo r;
  const std::string commit = r.CommitSigned(r.stranger, "Signed by someone else");
  const CheckResult result = r.Check(commit);
  INFO(DumpJson(result.ToJson(), 2));
  CHECK(result.reason == "commit-signer-untrusted");
  CHECK(result.details["commit_signature"]["signature"] == "untrusted");
  CHECK_THAT(result.summary, Catch::Contains("not listed"));
  CHECK(r.GitVerifyCommit(commit) != 0);
}

TEST_CASE("a trusted key outside its namespace or validity window is commit-signer-untrusted") {
  SignedRepo r;
  const std::string commit = r.CommitSigned(r.trusted, "Signed, but the key may not sign commits");
  WriteFile(r.allowed, "trainer@acme.com namespaces=\"bundlegate\" " + r.trusted.line() + "\n");
  CHECK(r.Check(commit).reason == "commit-signer-untrusted");
  CHECK(r.GitVerifyCommit(commit) != 0);
  // valid-before is compared with the committer time, as git passes -Overify-time.
  WriteFile(r.allowed, "trainer@acme.com valid-before=\"20200101Z\" " + r.trusted.line() + "\n");
  const CheckResult expired = r.Check(commit);
  CHECK(expired.reason == "commit-signer-untrusted");
  CHECK_THAT(expired.summary, Catch::Contains("expired"));
  CHECK(r.GitVerifyCommit(commit) != 0);
}

TEST_CASE("a signed commit whose object was changed afterwards does not verify") {
  SignedRepo r;
  const std::string commit = r.CommitSigned(r.trusted, "The original message");
  std::string object = r.t.repo.Git({"cat-file", "commit", commit}) + "\n";
  const auto at = object.find("The original message");
  REQUIRE(at != std::string::npos);
  object.replace(at, std::string("The original message").size(), "A forged message");
  WriteFile(r.tmp / "forged", object);
  const std::string forged = r.t.repo.Git({"hash-object", "-t", "commit", "-w", r.tmp / "forged"});
  REQUIRE(forged != commit);
  r.t.repo.Git({"update-ref", "refs/heads/main", forged});
  const CheckResult result = r.Check(forged);
  INFO(DumpJson(result.ToJson(), 2));
  CHECK(result.reason == "commit-signer-untrusted");
  CHECK(result.details["commit_signature"]["signature"] == "invalid");
  CHECK_THAT(result.summary, Catch::Contains("changed after signing"));
  CHECK(r.GitVerifyCommit(forged) != 0);
}

TEST_CASE("require_signed_commit options are validated") {
  TempDir tmp;
  auto t = MakeTrainingRepo(tmp / "src");
  auto built = BuildGitCheck(tmp.path(), RepoOption(t.repo.path()) + "require_signed_commit = true\n");
  REQUIRE_FALSE(built.errors.empty());
  CHECK_THAT(built.errors.front(), Catch::Contains("needs allowed_signers"));
  built = BuildGitCheck(tmp.path(), RepoOption(t.repo.path()) + "allowed_signers = \"x\"\n");
  REQUIRE_FALSE(built.errors.empty());
  CHECK_THAT(built.errors.front(), Catch::Contains("has no effect"));
  WriteFile(tmp / "bad_signers", "x@y ssh-ed25519 notbase64!\n");
  built = BuildGitCheck(tmp.path(), RepoOption(t.repo.path()) +
                                        "require_signed_commit = true\nallowed_signers = \"bad_signers\"\n");
  REQUIRE_FALSE(built.errors.empty());
  CHECK_THAT(built.errors.front(), Catch::Contains("bad_signers:1"));
}

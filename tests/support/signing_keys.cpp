#include "tests/support/signing_keys.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>

#include "tests/support/temp_dir.h"

namespace bg::test {
namespace {

void RequireOk(const ProcessResult& r, const std::string& what) {
  INFO(what << ": exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace

SshKeyPair MakeSshKey(const std::string& dir, const std::string& name, const std::string& kind) {
  std::filesystem::create_directories(dir);
  SshKeyPair key;
  key.private_path = dir + "/" + name;
  key.public_path = key.private_path + ".pub";
  std::filesystem::remove(key.private_path);
  std::filesystem::remove(key.public_path);
  std::vector<std::string> argv = {"ssh-keygen", "-q", "-N", "", "-C", name, "-f", key.private_path};
  if (kind == "ed25519") {
    argv.insert(argv.end(), {"-t", "ed25519"});
  } else if (kind == "ecdsa") {
    argv.insert(argv.end(), {"-t", "ecdsa", "-b", "256"});
  } else if (kind == "ecdsa384") {
    argv.insert(argv.end(), {"-t", "ecdsa", "-b", "384"});
  } else if (kind == "ecdsa521") {
    argv.insert(argv.end(), {"-t", "ecdsa", "-b", "521"});
  } else if (kind == "rsa") {
    argv.insert(argv.end(), {"-t", "rsa", "-b", "3072"});
  } else {
    FAIL("unknown key kind " << kind);
  }
  RequireOk(RunProcess(argv), "ssh-keygen " + kind);
  const std::string pub = ReadFile(key.public_path);
  const auto sp1 = pub.find(' ');
  const auto sp2 = pub.find(' ', sp1 + 1);
  key.type = pub.substr(0, sp1);
  key.base64 = pub.substr(sp1 + 1, sp2 - sp1 - 1);
  return key;
}

std::string SshSign(const SshKeyPair& key, const std::string& ns, const std::string& file,
                    const std::string& hashalg) {
  std::filesystem::remove(file + ".sig");
  std::vector<std::string> argv = {"ssh-keygen", "-q", "-Y", "sign", "-f", key.private_path, "-n", ns};
  if (!hashalg.empty()) argv.insert(argv.end(), {"-O", "hashalg=" + hashalg});
  argv.push_back(file);
  RequireOk(RunProcess(argv), "ssh-keygen -Y sign");
  return ReadFile(file + ".sig");
}

EcKeyPair MakeEcKey(const std::string& dir, const std::string& name, const std::string& curve) {
  std::filesystem::create_directories(dir);
  EcKeyPair key{dir + "/" + name + ".pem", dir + "/" + name + ".pub.pem"};
  RequireOk(RunProcess({"openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:" + curve, "-out", key.private_path}),
            "openssl genpkey");
  RequireOk(RunProcess({"openssl", "pkey", "-in", key.private_path, "-pubout", "-out", key.public_path}),
            "openssl pkey -pubout");
  return key;
}

const TestPki& SharedTestPki() {
  static std::unique_ptr<TempDir> tmp;
  static TestPki pki;
  if (!tmp) {
    tmp = std::make_unique<TempDir>();
    pki.dir = *tmp / "pki";
    RequireOk(RunProcess({"bash", SourceDir() + "/tests/support/make_test_pki.sh", pki.dir}),
              "make_test_pki.sh");
  }
  return pki;
}

ProcessResult SignBundle(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {SystemPython(), SourceDir() + "/scripts/bundlegate_sign.py", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

void RequireSigned(const ProcessResult& r) { RequireOk(r, "bundlegate_sign.py"); }

}  // namespace bg::test

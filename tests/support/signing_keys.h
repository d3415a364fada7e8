// Keys, certificates and signatures made at test time with the real tools, for the signature
// tests: ssh-keygen (SSH keys, `ssh-keygen -Y sign`), openssl (ECDSA keys, a CA with an
// intermediate and leaves: make_test_pki.sh) and the Python producer (scripts/bundlegate_sign.py,
// which writes model.sig as model_signing does).
//
//   SshKeyPair key = MakeSshKey(tmp / "keys", "alice", "ed25519");
//   std::string sig = SshSign(key, "bundlegate", dir + "/bundle.toml");   // bundle.toml.sig
//   const TestPki& pki = SharedTestPki();                                 // made once per process
//   RequireSigned(SignBundle(dir, {"--sign-key", pki.Path("leaf.key")}));
//
// Helpers fail the test (Catch2 REQUIRE) when a tool fails.
#pragma once

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace bg::test {

struct SshKeyPair {
  std::string private_path;
  std::string public_path;
  std::string type;    // "ssh-ed25519", "ecdsa-sha2-nistp256", ...
  std::string base64;  // the key blob
  std::string line() const { return type + " " + base64; }
};

// `kind`: "ed25519", "ecdsa" (P-256), "ecdsa384", "ecdsa521" or "rsa".
SshKeyPair MakeSshKey(const std::string& dir, const std::string& name, const std::string& kind);
// `ssh-keygen -Y sign -n ns [-O hashalg=...] file`: writes file.sig and returns its text.
std::string SshSign(const SshKeyPair& key, const std::string& ns, const std::string& file,
                    const std::string& hashalg = "");

// An ECDSA key made by `openssl genpkey`: {private PEM path, public PEM path}.
struct EcKeyPair {
  std::string private_path;
  std::string public_path;
};
EcKeyPair MakeEcKey(const std::string& dir, const std::string& name, const std::string& curve);

// The PKI of tests/support/make_test_pki.sh, made once per test process.
struct TestPki {
  std::string dir;
  std::string Path(const std::string& name) const { return dir + "/" + name; }
};
const TestPki& SharedTestPki();

// Runs scripts/bundlegate_sign.py DIR args... (the Python producer).
ProcessResult SignBundle(const std::string& dir, const std::vector<std::string>& args);
void RequireSigned(const ProcessResult& r);

}  // namespace bg::test

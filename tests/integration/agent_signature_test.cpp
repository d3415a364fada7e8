// Signed bundles through the real agent: the signature check first, a plugin after it; a signed
// bundle is promoted with its signer in the audit record, a badly signed one is quarantined with
// its signer in REJECTED.json and the audit record, and the plugin never sees it.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/agent_process.h"
#include "tests/support/process.h"
#include "tests/support/signing_keys.h"

using namespace bg::test;
namespace fs = std::filesystem;

namespace {

// bundlegate-check-marker: passes every bundle it is given.
constexpr const char* kMarker = R"(#!/usr/bin/python3
import json, sys
if sys.argv[1:] == ['--describe']:
    print(json.dumps({'protocol': 1, 'kind': 'marker', 'version': '1', 'runtime': {}}))
    sys.exit(0)
json.load(sys.stdin)
print(json.dumps({'protocol': 1, 'status': 'pass', 'summary': 'loaded the model'}))
)";

struct SignedAgent {
  TempDir keys;
  SshKeyPair trusted = MakeSshKey(keys / "ssh", "release", "ed25519");
  SshKeyPair stranger = MakeSshKey(keys / "ssh", "stranger", "ed25519");
  const TestPki& pki = SharedTestPki();
  std::unique_ptr<AgentRoot> root;

  SignedAgent() {
    WriteFile(keys / "allowed_signers", "release@acme.com " + trusted.line() + "\n");
    WriteFile(keys / "plugins/bundlegate-check-marker", kMarker);
    REQUIRE(::chmod((keys / "plugins/bundlegate-check-marker").c_str(), 0755) == 0);
    root = std::make_unique<AgentRoot>(
        "plugin_dirs = [\"" + keys / "plugins" + "\"]",
        "[[checks]]\nkind = \"signature\"\nallowed_signers = \"" + keys / "allowed_signers" + "\"\n"
        "trusted_keys = [\"" + pki.Path("leaf.pub.pem") + "\"]\n\n[[checks]]\nkind = \"marker\"\n");
  }

  // Writes, signs (sign_args to bundlegate_sign.py) and then renames the bundle into the inbox.
  void Drop(const std::string& name, const std::string& version, const std::vector<std::string>& sign_args,
            const std::function<void(const std::string&)>& after_signing = nullptr) {
    BundleSpec spec;
    spec.name = "signed-model";
    spec.version = version;
    const std::string staging = root->inbox() + "/." + name + ".tmp";
    fs::create_directories(root->inbox());
    WriteBundle(staging, spec);
    if (!sign_args.empty()) RequireSigned(SignBundle(staging, sign_args));
    if (after_signing) after_signing(staging);
    fs::rename(staging, root->inbox() + "/" + name);
  }
};

json Decision(const AgentRoot& root, const std::string& inbox_name) {
  auto found = WaitForAudit(root.audit_log(), DecisionFor(inbox_name));
  REQUIRE(found.size() == 1);
  REQUIRE(WaitForIdle(root));
  return found[0];
}

std::string StatusOf(const json& decision, const std::string& check) {
  for (const auto& c : decision["checks"]) {
    if (c["check"] == check) return c["status"];
  }
  return "absent";
}

}  // namespace

TEST_CASE("the agent promotes signed bundles and names their signer in the audit log") {
  SignedAgent s;
  AgentProcess agent(*s.root);
  REQUIRE(agent.WaitReady());

  s.Drop("ssh-signed", "1.0.0", {"--ssh-key", s.trusted.private_path});
  const json ssh = Decision(*s.root, "ssh-signed");
  INFO(ssh.dump(2));
  CHECK(ssh["event"] == "promoted");
  CHECK(ssh["signer"]["format"] == "ssh");
  CHECK(ssh["signer"]["principal"] == "release@acme.com");
  CHECK(ssh["signer"]["verified"] == true);
  CHECK(StatusOf(ssh, "signature") == "pass");
  CHECK(StatusOf(ssh, "marker") == "pass");
  // The signatures travel with the bundle into serving/.
  CHECK(fs::exists(s.root->serving() + "/signed-model/1.0.0/bundle.toml.sig"));

  s.Drop("key-signed", "1.0.1", {"--sign-key", s.pki.Path("leaf.key")});
  const json key = Decision(*s.root, "key-signed");
  INFO(key.dump(2));
  CHECK(key["event"] == "promoted");
  CHECK(key["signer"]["method"] == "key");
  CHECK(key["signer"]["key_file"] == s.pki.Path("leaf.pub.pem"));
  CHECK(ServingProblems(*s.root).empty());
  CHECK(VerifyAudit(*s.root) == 0);
}

TEST_CASE("the agent quarantines badly signed bundles before any plugin runs") {
  SignedAgent s;
  AgentProcess agent(*s.root);
  REQUIRE(agent.WaitReady());

  s.Drop("unsigned", "2.0.0", {});
  s.Drop("stranger", "2.0.1", {"--ssh-key", s.stranger.private_path});
  s.Drop("tampered", "2.0.2", {"--sign-key", s.pki.Path("leaf.key")},
         [](const std::string& dir) { WriteFile(dir + "/extra.py", "import os\n"); });
  struct Expect {
    const char* inbox;
    const char* reason;
  };
  for (const Expect e : {Expect{"unsigned", "signature-missing"}, Expect{"stranger", "signer-untrusted"},
                         Expect{"tampered", "signature-invalid"}}) {
    const json d = Decision(*s.root, e.inbox);
    INFO(d.dump(2));
    CHECK(d["event"] == "rejected");
    if (std::string(e.inbox) == "tampered") {
      CHECK(d["reason"] == "unlisted-file");  // integrity comes first; the signature check agrees
    } else {
      CHECK(d["reason"] == e.reason);
    }
    CHECK(StatusOf(d, "signature") == "fail");
    CHECK(StatusOf(d, "marker") == "skip");  // the plugin never saw it
    const json rejected = json::parse(ReadFile(d["path"].get<std::string>() + "/REJECTED.json"));
    if (std::string(e.inbox) == "stranger") {
      CHECK(d["signer"]["key"] == rejected["signer"]["key"]);
      CHECK(rejected["signer"]["verified"] == false);
      CHECK(rejected["signer"]["key"].get<std::string>().rfind("SHA256:", 0) == 0);
    }
    if (std::string(e.inbox) == "tampered") {
      CHECK(rejected["signer"]["method"] == "key");
      CHECK(rejected["signer"]["verified"] == false);
    }
  }
  CHECK(VerifyAudit(*s.root) == 0);
}

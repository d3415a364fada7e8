// SSH keys and SSHSIG: signatures made by the real `ssh-keygen -Y sign`, verified by our parser
// and verifier, and every way of breaking one refused with signature-invalid.
#include <catch2/catch.hpp>

#include "agent/signature/base64.h"
#include "agent/signature/openssh_private_key.h"
#include "agent/signature/ssh_key.h"
#include "agent/signature/sshsig.h"
#include "tests/support/signing_keys.h"
#include "tests/support/temp_dir.h"

namespace bg {
namespace {

using test::MakeSshKey;
using test::ReadFile;
using test::SshSign;
using test::TempDir;
using test::WriteFile;

Reason ReasonOf(const Status& s) { return s.reason(); }

TEST_CASE("ssh-keygen signatures verify, for every key type and both hashes") {
  TempDir tmp;
  const std::string message = "format = 1\nname = \"m\"\n";
  WriteFile(tmp / "msg", message);
  for (const std::string kind : {"ed25519", "ecdsa", "ecdsa384", "ecdsa521", "rsa"}) {
    for (const std::string hash : {"sha256", "sha512"}) {
      SECTION(kind + " " + hash) {
        const auto key = MakeSshKey(tmp / "keys", kind, kind);
        const std::string armored = SshSign(key, "bundlegate", tmp / "msg", hash);
        auto sig = ParseArmoredSshSignature(armored);
        INFO(sig.status().message());
        REQUIRE(sig.ok());
        CHECK(sig->key.type() == key.type);
        CHECK(sig->sig_namespace == "bundlegate");
        CHECK(HashAlgorithmName(sig->hash) == hash);
        CHECK(VerifySshSignature(*sig, message, "bundlegate").ok());
        // The fingerprint is ssh-keygen's.
        const auto fp = test::RunProcess({"ssh-keygen", "-l", "-E", "sha256", "-f", key.public_path});
        CHECK(fp.out.find(sig->key.Fingerprint()) != std::string::npos);

        const Status wrong_message = VerifySshSignature(*sig, message + " ", "bundlegate");
        CHECK(ReasonOf(wrong_message) == Reason::kSignatureInvalid);
        const Status wrong_ns = VerifySshSignature(*sig, message, "git");
        CHECK(ReasonOf(wrong_ns) == Reason::kSignatureInvalid);
        CHECK(wrong_ns.message().find("namespace") != std::string::npos);
      }
    }
  }
}

TEST_CASE("a signature made by our own signer verifies with ssh-keygen") {
  TempDir tmp;
  for (const std::string kind : {"ed25519", "ecdsa", "ecdsa521"}) {
    const auto key = MakeSshKey(tmp / "keys", kind, kind);
    auto priv = OpenSshPrivateKey::Parse(ReadFile(key.private_path));
    INFO(priv.status().message());
    REQUIRE(priv.ok());
    CHECK(Base64Encode(priv->public_key().blob()) == key.base64);
    WriteFile(tmp / "msg", "hello");
    auto armored = priv->SignArmored("hello", "bundlegate");
    REQUIRE(armored.ok());
    WriteFile(tmp / "msg.sig", *armored);
    WriteFile(tmp / "allowed", "me@acme " + key.line() + "\n");
    const auto r = test::RunProcess({"ssh-keygen", "-Y", "verify", "-f", tmp / "allowed", "-I", "me@acme",
                                     "-n", "bundlegate", "-s", tmp / "msg.sig"},
                                    {"", {}, "hello", 60});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
  }
}

TEST_CASE("an encrypted OpenSSH key is refused for signing, with a way out") {
  TempDir tmp;
  REQUIRE(test::RunProcess({"ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", tmp / "k"}).exit_code == 0);
  auto priv = OpenSshPrivateKey::Parse(ReadFile(tmp / "k"));
  REQUIRE_FALSE(priv.ok());
  CHECK(priv.status().message().find("ssh-keygen -Y sign") != std::string::npos);
}

TEST_CASE("armor is parsed strictly") {
  TempDir tmp;
  const auto key = MakeSshKey(tmp / "keys", "k", "ed25519");
  WriteFile(tmp / "msg", "m");
  const std::string good = SshSign(key, "bundlegate", tmp / "msg");
  REQUIRE(ParseArmoredSshSignature(good).ok());

  std::string crlf;
  for (const char c : good) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK(ParseArmoredSshSignature(crlf).ok());
  std::string no_final_newline = good.substr(0, good.size() - 1);
  CHECK(ParseArmoredSshSignature(no_final_newline).ok());

  auto rejected = [](const std::string& text) {
    auto r = ParseArmoredSshSignature(text);
    return !r.ok() && r.status().reason() == Reason::kSignatureInvalid;
  };
  CHECK(rejected(""));
  CHECK(rejected(" " + good));                      // must start with the header
  CHECK(rejected(good + "trailing\n"));              // nothing after the footer
  CHECK(rejected(good + "\n"));
  CHECK(rejected(good.substr(0, good.find("-----END"))));  // no footer
  std::string space = good;
  space.insert(good.find('\n') + 5, " ");
  CHECK(rejected(space));                            // whitespace inside the base64
  CHECK(rejected(std::string(kMaxArmoredSignatureBytes + 1, 'A')));
  // Every truncation fails cleanly.
  for (std::size_t n = 0; n + 1 < good.size(); ++n) {
    if (n == good.size() - 1) continue;
    const auto r = ParseArmoredSshSignature(good.substr(0, n));
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("blob fields are checked: magic, version, trailing bytes, namespace, hash") {
  TempDir tmp;
  const auto key = MakeSshKey(tmp / "keys", "k", "ed25519");
  WriteFile(tmp / "msg", "m");
  auto blob = DearmorSshSignature(SshSign(key, "bundlegate", tmp / "msg"));
  REQUIRE(blob.ok());
  auto sig = ParseSshSignatureBlob(*blob);
  REQUIRE(sig.ok());
  auto rebuilt = [&](const std::string& ns, const std::string& hash, const std::string& signature) {
    std::string out = SshSignatureBlob(sig->key, ns, HashAlgorithm::kSha512, signature);
    if (hash != "sha512") {
      const auto at = out.find("sha512");
      out.replace(at - 4, 10, std::string("\0\0\0", 3) + static_cast<char>(hash.size()) + hash);
    }
    return out;
  };
  CHECK(ParseSshSignatureBlob(rebuilt("bundlegate", "sha512", sig->signature)).ok());
  CHECK_FALSE(ParseSshSignatureBlob(rebuilt("", "sha512", sig->signature)).ok());
  CHECK_FALSE(ParseSshSignatureBlob(rebuilt("bundlegate", "sha1", sig->signature)).ok());
  CHECK_FALSE(ParseSshSignatureBlob(*blob + "x").ok());
  std::string v2 = *blob;
  v2[9] = 2;
  auto r = ParseSshSignatureBlob(v2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("version 2") != std::string::npos);
  CHECK_FALSE(ParseSshSignatureBlob("SSHSIG").ok());
  CHECK_FALSE(ParseSshSignatureBlob("XXXSIG" + blob->substr(6)).ok());
  // Flipping any single byte of the blob never yields a signature that verifies.
  for (std::size_t i = 0; i < blob->size(); ++i) {
    std::string flipped = *blob;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    auto parsed = ParseSshSignatureBlob(flipped);
    if (parsed.ok()) CHECK_FALSE(VerifySshSignature(*parsed, "m", "bundlegate").ok());
  }
}

TEST_CASE("key types bundlegate does not verify are refused by name") {
  TempDir tmp;
  std::string blob;
  auto put = [&](std::string_view s) {
    for (int shift = 24; shift >= 0; shift -= 8) blob += static_cast<char>(s.size() >> shift);
    blob += s;
  };
  put("ssh-ed25519-cert-v01@openssh.com");
  put("nonce");
  auto r = SshPublicKey::FromBlob(blob);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("certificates") != std::string::npos);
  blob.clear();
  put("ssh-dss");
  CHECK_FALSE(SshPublicKey::FromBlob(blob).ok());
  // A type string that disagrees with the key line.
  const auto key = MakeSshKey(tmp / "keys", "k", "ed25519");
  CHECK_FALSE(SshPublicKey::FromText("ssh-rsa", key.base64).ok());
  CHECK(SshPublicKey::FromText("ssh-ed25519", key.base64).ok());
}

}  // namespace
}  // namespace bg

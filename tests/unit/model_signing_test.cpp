// OpenSSF model signing: model.sig made by the Python producer (scripts/bundlegate_sign.py, which
// follows model_signing's format) and by our own signer, verified offline with keys and a CA made
// at test time by openssl; every tampering refused with the right reason.
#include <catch2/catch.hpp>
#include <ctime>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/signature/base64.h"
#include "agent/signature/dsse.h"
#include "agent/signature/in_toto_statement.h"
#include "agent/signature/model_signing_signer.h"
#include "agent/signature/model_signing_verifier.h"
#include "agent/signature/sigstore_bundle.h"
#include "tests/support/bundle_writer.h"
#include "tests/support/signing_keys.h"
#include "tests/support/temp_dir.h"

namespace bg {
namespace {

using test::ReadFile;
using test::SharedTestPki;
using test::SignBundle;
using test::TempDir;
using test::WriteFile;

const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));

std::vector<WalkedFile> HashDir(const std::string& dir) {
  auto opened = BundleDir::Open(dir);
  REQUIRE(opened.ok());
  HashingVisitor hasher;
  auto walk = WalkBundle(*opened, LimitsConfig{}, hasher);
  REQUIRE(walk.ok());
  return walk->files;
}

TrustedKeys Keys(const std::vector<std::string>& pems) {
  auto k = TrustedKeys::LoadPemFiles(pems);
  INFO(k.status().message());
  REQUIRE(k.ok());
  return std::move(k).value();
}

TrustAnchors Anchors(const std::string& pem) {
  auto a = TrustAnchors::LoadPemFiles({pem});
  INFO(a.status().message());
  REQUIRE(a.ok());
  return std::move(a).value();
}

SignatureVerdict Verify(const std::string& dir, const ModelSigningTrust& trust,
                        const ResourcePolicy& policy = {}) {
  return VerifyModelSignature(ReadFile(dir + "/model.sig"), trust, HashDir(dir), policy, kNow);
}

#define CHECK_VERDICT(v, reason_code, fragment)                               \
  do {                                                                        \
    INFO("verdict: " << (v).status.ToString());                               \
    CHECK((v).status.reason() == (reason_code));                              \
    CHECK((v).status.message().find(fragment) != std::string::npos);          \
  } while (0)

// A signed bundle (written by the test BundleWriter, signed by the Python producer).
struct Signed {
  TempDir tmp;
  std::string dir;
  std::string key = SharedTestPki().Path("leaf.key");
  std::string pub = SharedTestPki().Path("leaf.pub.pem");
  explicit Signed(std::vector<std::string> args = {}) {
    dir = test::WriteBundle(tmp / "bundle");
    if (args.empty()) args = {"--sign-key", key};
    test::RequireSigned(SignBundle(dir, args));
  }
};

std::string Resign(const std::string& payload, const PrivateKey& key) {
  DsseEnvelope env{std::string(kInTotoPayloadType), payload, {}};
  auto sig = key.SignHashed(*EcdsaHashForCurve(key.kind()), DssePae(env.payload_type, payload));
  REQUIRE(sig.ok());
  env.signatures.push_back({"", *sig});
  return SigstoreBundleJsonWithHint(env, ModelSigningKeyHint(key.public_key()));
}

PrivateKey LoadKey(const std::string& path) {
  auto k = PrivateKey::FromPem(ReadFile(path));
  REQUIRE(k.ok());
  return std::move(k).value();
}

TEST_CASE("model.sig by the Python producer: the key method verifies, naming the key") {
  Signed b;
  const TrustedKeys keys = Keys({b.pub});
  const auto v = Verify(b.dir, {&keys, nullptr});
  INFO(v.status.ToString());
  REQUIRE(v.ok());
  CHECK(v.signer["verified"] == true);
  CHECK(v.signer["method"] == "key");
  CHECK(v.signer["key"] == keys.keys()[0].fingerprint);
  CHECK(v.signer["key_hint"] == keys.keys()[0].hint);
  CHECK(v.signer["key_file"] == b.pub);
  CHECK(v.details["resources"] >= 5);

  // Its statement is model_signing's, field by field.
  const auto bundle = ParseSigstoreBundle(ReadFile(b.dir + "/model.sig"));
  REQUIRE(bundle.ok());
  const auto st = ParseModelSigningStatement(bundle->envelope.payload);
  REQUIRE(st.ok());
  CHECK(st->subject_name == "bundle");
  CHECK(st->method == "files");
  CHECK(st->ignore_paths == std::vector<std::string>{"model.sig"});
  CHECK(st->subject_sha256 == ModelSigningSubjectDigest(st->resources));
}

TEST_CASE("model.sig: a key that is not trusted is signer-untrusted") {
  Signed b;
  TempDir other;
  const auto stranger = test::MakeEcKey(other.path(), "stranger", "P-256");
  const TrustedKeys keys = Keys({stranger.public_path});
  CHECK_VERDICT(Verify(b.dir, {&keys, nullptr}), Reason::kSignerUntrusted, "none of the 1 trusted key");
  const TrustedKeys none;
  CHECK_VERDICT(Verify(b.dir, {&none, nullptr}), Reason::kSignerUntrusted, "no trusted_keys");
}

TEST_CASE("model.sig: tampering with the files is signature-invalid") {
  Signed b;
  const TrustedKeys keys = Keys({b.pub});
  const ModelSigningTrust trust{&keys, nullptr};
  SECTION("a byte flipped in a signed file") {
    std::string model = ReadFile(b.dir + "/model.pt");
    model[0] = static_cast<char>(model[0] ^ 1);
    WriteFile(b.dir + "/model.pt", model);
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "model.pt: modified since signing");
  }
  SECTION("a byte flipped in bundle.toml") {
    test::ReplaceInFile(b.dir + "/bundle.toml", "1.0.0", "1.0.1");
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "bundle.toml: modified");
  }
  SECTION("a file added after signing") {
    WriteFile(b.dir + "/extra/evil.py", "import os\n");
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "extra/evil.py: not signed");
  }
  SECTION("a file removed after signing") {
    std::filesystem::remove(b.dir + "/preprocess.toml");
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "preprocess.toml: signed but not in the bundle");
  }
  SECTION("a file the config allows to be unsigned may be added") {
    WriteFile(b.dir + "/notes/readme.txt", "hi\n");
    ResourcePolicy policy;
    policy.ignore_paths = {"notes"};
    CHECK(Verify(b.dir, trust, policy).ok());
  }
}

TEST_CASE("model.sig: tampering with the signature file is signature-invalid") {
  Signed b;
  const TrustedKeys keys = Keys({b.pub});
  const ModelSigningTrust trust{&keys, nullptr};
  const std::string text = ReadFile(b.dir + "/model.sig");
  Json j = Json::parse(text);
  SECTION("a byte flipped in the signature") {
    auto sig = *Base64Decode(j["dsseEnvelope"]["signatures"][0]["sig"].get<std::string>(), Base64Flavor::kAnyAlphabet);
    sig[sig.size() / 2] = static_cast<char>(sig[sig.size() / 2] ^ 0x10);
    j["dsseEnvelope"]["signatures"][0]["sig"] = Base64Encode(sig);
    WriteFile(b.dir + "/model.sig", j.dump());
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "does not verify");
  }
  SECTION("a byte flipped in the payload") {
    auto payload = *Base64Decode(j["dsseEnvelope"]["payload"].get<std::string>(), Base64Flavor::kAnyAlphabet);
    const auto at = payload.find("\"digest\": \"") + 12;
    payload[at] = payload[at] == 'a' ? 'b' : 'a';
    j["dsseEnvelope"]["payload"] = Base64Encode(payload);
    WriteFile(b.dir + "/model.sig", j.dump());
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "does not verify");
  }
  SECTION("another payload type") {
    j["dsseEnvelope"]["payloadType"] = "application/json";
    WriteFile(b.dir + "/model.sig", j.dump());
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignatureInvalid, "payload type");
  }
  SECTION("a hint pointing at another key") {
    j["verificationMaterial"]["publicKey"]["hint"] = std::string(64, 'a');
    WriteFile(b.dir + "/model.sig", j.dump());
    CHECK_VERDICT(Verify(b.dir, trust), Reason::kSignerUntrusted, "publicKey.hint");
  }
}

TEST_CASE("model.sig: model_signing 1.0.x bundles carry the raw key instead of a hint") {
  Signed b;
  const TrustedKeys keys = Keys({b.pub});
  Json j = Json::parse(ReadFile(b.dir + "/model.sig"));
  j["verificationMaterial"] = {{"publicKey", {{"rawBytes", Base64Encode(ReadFile(b.pub))},
                                              {"keyDetails", "PKIX_ECDSA_P384_SHA_384"}}}};
  WriteFile(b.dir + "/model.sig", j.dump());
  const auto v = Verify(b.dir, {&keys, nullptr});
  INFO(v.status.ToString());
  CHECK(v.ok());
  TempDir other;
  const auto stranger = test::MakeEcKey(other.path(), "stranger", "P-384");
  const TrustedKeys wrong = Keys({stranger.public_path});
  CHECK_VERDICT(Verify(b.dir, {&wrong, nullptr}), Reason::kSignerUntrusted, "rawBytes");
  // No key named at all: each trusted key is tried.
  j["verificationMaterial"] = {{"publicKey", Json::object()}};
  WriteFile(b.dir + "/model.sig", j.dump());
  const TrustedKeys both = Keys({stranger.public_path, b.pub});
  CHECK(Verify(b.dir, {&both, nullptr}).ok());
  CHECK_VERDICT(Verify(b.dir, {&wrong, nullptr}), Reason::kSignerUntrusted, "names no key");
}

TEST_CASE("model.sig: the statement must list bundle.toml and match its subject digest") {
  TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  const PrivateKey key = LoadKey(SharedTestPki().Path("leaf.key"));
  const TrustedKeys keys = Keys({SharedTestPki().Path("leaf.pub.pem")});
  std::vector<ModelSigningResource> resources;
  for (const auto& f : HashDir(dir)) {
    if (f.path != "bundle.toml") resources.push_back({f.path, f.sha256});
  }
  SECTION("a resource list that omits bundle.toml") {
    WriteFile(dir + "/model.sig", Resign(ModelSigningStatementJson("b", resources, {"bundle.toml"}), key));
    CHECK_VERDICT(Verify(dir, {&keys, nullptr}), Reason::kSignatureInvalid, "bundle.toml: not signed");
    // ...even when the operator's ignore paths would otherwise allow it.
    ResourcePolicy policy;
    policy.ignore_paths = {"bundle.toml"};
    CHECK_VERDICT(Verify(dir, {&keys, nullptr}, policy), Reason::kSignatureInvalid, "bundle.toml must be signed");
  }
  SECTION("the signer's own ignore paths do not exempt a file") {
    for (const auto& f : HashDir(dir)) {
      if (f.path == "bundle.toml") resources.push_back({f.path, f.sha256});
    }
    std::sort(resources.begin(), resources.end(), [](const auto& a, const auto& c) { return ModelSigningPathLess(a.name, c.name); });
    WriteFile(dir + "/extra/smuggled.py", "print('hi')\n");
    WriteFile(dir + "/model.sig", Resign(ModelSigningStatementJson("b", resources, {"extra"}), key));
    const auto v = Verify(dir, {&keys, nullptr});
    CHECK_VERDICT(v, Reason::kSignatureInvalid, "extra/smuggled.py: not signed: the signer's ignore_paths");
  }
  SECTION("a subject digest that is not the resources'") {
    std::string json = ModelSigningStatementJson("b", resources, {});
    const auto at = json.find("\"sha256\": \"") + 11;
    json[at] = json[at] == '0' ? '1' : '0';
    WriteFile(dir + "/model.sig", Resign(json, key));
    CHECK_VERDICT(Verify(dir, {&keys, nullptr}), Reason::kSignatureInvalid, "subject digest");
  }
}

TEST_CASE("model.sig: the statement is parsed strictly") {
  auto statement = [](const std::string& serialization, const std::string& resources) {
    return "{\"_type\": \"https://in-toto.io/Statement/v1\", \"subject\": [{\"name\": \"m\", \"digest\": "
           "{\"sha256\": \"" + std::string(64, '0') + "\"}}], \"predicateType\": "
           "\"https://model_signing/signature/v1.0\", \"predicate\": {\"serialization\": " +
           serialization + ", \"resources\": " + resources + "}}";
  };
  const std::string files = R"({"method": "files", "hash_type": "sha256", "allow_symlinks": false})";
  const std::string one = R"([{"name": "a", "algorithm": "sha256", "digest": ")" + std::string(64, 'A') + "\"}]";
  auto st = ParseModelSigningStatement(statement(files, one));
  REQUIRE(st.ok());
  CHECK(st->resources[0].digest == std::string(64, 'a'));
  auto rejected = [&](const std::string& text, const std::string& fragment) {
    auto r = ParseModelSigningStatement(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == Reason::kSignatureInvalid);
    CHECK(r.status().message().find(fragment) != std::string::npos);
  };
  rejected(statement(R"({"method": "shards", "hash_type": "sha256", "shard_size": 1000})", one), "\"shards\" is not supported");
  rejected(statement(R"({"method": "files", "hash_type": "blake2"})", one), "\"blake2\" is not supported");
  rejected(statement(files, R"([{"name": "a", "algorithm": "blake3", "digest": ")" + std::string(64, 'a') + "\"}]"), "blake3");
  rejected(statement(files, "[" + one.substr(1, one.size() - 2) + "," + one.substr(1)), "listed twice");
  rejected(statement(files, R"([{"name": "../etc/passwd", "algorithm": "sha256", "digest": ")" + std::string(64, 'a') + "\"}]"), "safe relative path");
  rejected(statement(files, R"([{"name": "a", "algorithm": "sha256", "digest": "abc"}])"), "64 hex");
  rejected(statement(files, R"({"a": 1})"), "not an array");
  rejected("{\"_type\": \"https://in-toto.io/Statement/v1\", \"predicateType\": \"https://model_signing/Digests/v0.1\"}",
           "before 1.0");
  rejected("[]", "not a JSON object");
  rejected(std::string(100, '['), "nested");
}

TEST_CASE("model.sig: the Sigstore bundle is parsed strictly and bounded") {
  Signed b;
  const std::string good = ReadFile(b.dir + "/model.sig");
  REQUIRE(ParseSigstoreBundle(good).ok());
  auto rejected = [](const std::string& text, const std::string& fragment) {
    auto r = ParseSigstoreBundle(text);
    INFO(text.substr(0, 300));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().reason() == Reason::kSignatureInvalid);
    CHECK(r.status().message().find(fragment) != std::string::npos);
  };
  for (std::size_t n = 0; n < good.size(); n += 7) {
    CHECK_FALSE(ParseSigstoreBundle(good.substr(0, n)).ok());  // every truncation
  }
  rejected(std::string(kMaxSigstoreBundleBytes + 1, ' '), "more than");
  rejected(std::string(10000, '[') + std::string(10000, ']'), "nested");
  rejected("nonsense", "not valid JSON");
  Json j = Json::parse(good);
  auto with = [&](const std::function<void(Json&)>& edit) {
    Json copy = j;
    edit(copy);
    return copy.dump();
  };
  rejected(with([](Json& x) { x["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"; }), "mediaType");
  rejected(with([](Json& x) { x["mediaType"] = 3; }), "not a string");
  rejected(with([](Json& x) { x["extra"] = 1; }), "unknown field \"extra\"");
  rejected(with([](Json& x) { x.erase("dsseEnvelope"); }), "DSSE");
  rejected(with([](Json& x) { x["verificationMaterial"] = {{"certificate", {{"rawBytes", "AAAA"}}}}; }), "keyless");
  rejected(with([](Json& x) { x["verificationMaterial"]["x509CertificateChain"] = {{"certificates", Json::array()}}; }), "exactly one");
  rejected(with([](Json& x) { x["dsseEnvelope"]["signatures"].push_back(x["dsseEnvelope"]["signatures"][0]); }), "2 signatures");
  rejected(with([](Json& x) { x["dsseEnvelope"]["payload"] = "%%%"; }), "base64");
  rejected(with([](Json& x) { x["dsseEnvelope"]["signatures"][0]["sig"] = ""; }), "empty");
  rejected(with([](Json& x) { x["verificationMaterial"]["publicKey"]["hint"] = "XYZ"; }), "hex");
  // URL-safe unpadded base64 is protobuf JSON too.
  const std::string payload = *Base64Decode(j["dsseEnvelope"]["payload"].get<std::string>(), Base64Flavor::kAnyAlphabet);
  std::string url = Base64Encode(payload, false);
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  auto parsed = ParseSigstoreBundle(with([&](Json& x) { x["dsseEnvelope"]["payload"] = url; }));
  REQUIRE(parsed.ok());
  CHECK(parsed->envelope.payload == payload);
}

TEST_CASE("model.sig, certificate method: the chain decides trust") {
  const auto& pki = SharedTestPki();
  const TrustAnchors root = Anchors(pki.Path("root.pem"));
  auto signed_by = [&](const std::string& leaf, const std::string& chain, TempDir& tmp) {
    const std::string dir = test::WriteBundle(tmp / "b");
    std::vector<std::string> args = {"--sign-key", pki.Path(leaf + ".key"), "--sign-cert", pki.Path(leaf + ".pem")};
    if (!chain.empty()) args.insert(args.end(), {"--sign-chain", pki.Path(chain)});
    test::RequireSigned(SignBundle(dir, args));
    return dir;
  };
  SECTION("a leaf under the intermediate under the trusted root") {
    TempDir tmp;
    const auto v = Verify(signed_by("leaf", "int.pem", tmp), {nullptr, &root});
    INFO(v.status.ToString());
    REQUIRE(v.ok());
    CHECK(v.signer["method"] == "certificate");
    CHECK(v.signer["identity"] == "O=Acme,CN=release-signer-leaf");
    CHECK(v.signer["subject_alt_names"][0] == "email:release@acme.example");
    CHECK(v.signer["chain"].size() == 3);
    TempDir tmp256;
    CHECK(Verify(signed_by("leaf256", "int.pem", tmp256), {nullptr, &root}).ok());
  }
  SECTION("without the intermediate the chain is incomplete") {
    TempDir tmp;
    CHECK_VERDICT(Verify(signed_by("leaf", "", tmp), {nullptr, &root}), Reason::kSignerUntrusted, "does not verify");
  }
  SECTION("a chain to a root that is not trusted") {
    TempDir tmp;
    CHECK_VERDICT(Verify(signed_by("other_leaf", "", tmp), {nullptr, &root}), Reason::kSignerUntrusted,
                  "does not verify against the configured anchors");
  }
  SECTION("an intermediate that had expired when the leaf was issued") {
    TempDir tmp;
    CHECK_VERDICT(Verify(signed_by("leaf_late", "int_old.pem", tmp), {nullptr, &root}), Reason::kSignerUntrusted,
                  "expired");
  }
  SECTION("a leaf that expired since: model_signing's rule accepts it, \"now\" does not") {
    TempDir tmp;
    const std::string dir = signed_by("leaf_expired", "int.pem", tmp);
    const auto v = Verify(dir, {nullptr, &root, CertificateTime::kIssuance});
    INFO(v.status.ToString());
    CHECK(v.ok());
    CHECK(v.signer["checked_at"] == "2024-01-01T00:00:00Z");
    CHECK_VERDICT(Verify(dir, {nullptr, &root, CertificateTime::kNow}), Reason::kSignerUntrusted, "expired");
  }
  SECTION("a certificate that may not sign") {
    TempDir tmp;
    CHECK_VERDICT(Verify(signed_by("nosign", "int.pem", tmp), {nullptr, &root}), Reason::kSignerUntrusted, "may not sign");
  }
  SECTION("a certificate not valid yet") {
    TempDir tmp;
    CHECK_VERDICT(Verify(signed_by("future", "int.pem", tmp), {nullptr, &root}), Reason::kSignerUntrusted, "not valid until");
  }
  SECTION("a tampered envelope is invalid before trust is even asked") {
    TempDir tmp;
    const std::string dir = signed_by("other_leaf", "", tmp);
    Json j = Json::parse(ReadFile(dir + "/model.sig"));
    auto payload = *Base64Decode(j["dsseEnvelope"]["payload"].get<std::string>(), Base64Flavor::kAnyAlphabet);
    payload[payload.size() / 2] = static_cast<char>(payload[payload.size() / 2] ^ 1);
    j["dsseEnvelope"]["payload"] = Base64Encode(payload);
    WriteFile(dir + "/model.sig", j.dump());
    CHECK_VERDICT(Verify(dir, {nullptr, &root}), Reason::kSignatureInvalid, "does not verify");
  }
  SECTION("no anchors configured") {
    TempDir tmp;
    CHECK_VERDICT(Verify(signed_by("leaf", "int.pem", tmp), {nullptr, nullptr}), Reason::kSignerUntrusted,
                  "no certificate_anchors");
  }
}

TEST_CASE("our own signer writes what the Python producer writes, and both verify") {
  TempDir tmp;
  const std::string dir = test::WriteBundle(tmp / "b");
  const PrivateKey key = LoadKey(SharedTestPki().Path("leaf.key"));
  ModelSigningRequest request;
  request.subject_name = "b";
  request.key = &key;
  for (const auto& f : HashDir(dir)) request.files.push_back(f);
  request.ignore_paths = {"model.sig"};
  auto ours = SignModel(request);
  REQUIRE(ours.ok());
  test::RequireSigned(SignBundle(dir, {"--sign-key", SharedTestPki().Path("leaf.key")}));
  const std::string theirs = ReadFile(dir + "/model.sig");
  const auto a = ParseSigstoreBundle(*ours), b = ParseSigstoreBundle(theirs);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->key_hint == b->key_hint);
  CHECK(a->envelope.payload == b->envelope.payload);  // byte for byte the same statement
  const TrustedKeys keys = Keys({SharedTestPki().Path("leaf.pub.pem")});
  CHECK(VerifyModelSignature(*ours, {&keys, nullptr}, HashDir(dir), {}, kNow).ok());
}

}  // namespace
}  // namespace bg

// Interop: bundles made by Python (scripts/bundlegate_pack.py, via
// tests/python/make_torch_fixtures.py) checked by the C++ plugin bundlegate-check-torchscript,
// run as a process speaking the JSON protocol. Real torchvision architectures and a transformer
// pass; each deliberate failure is rejected with its reason; the fixtures that crash, hang or
// allocate without bound are shown to do so, for the agent's plugin runner to contain.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "agent/bundle/bundle_dir.h"
#include "agent/bundle/bundle_walk.h"
#include "agent/bundle/integrity.h"
#include "agent/manifest/manifest.h"
#include "tests/integration/torchscript_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;
using bg::sdk::Json;
namespace fs = std::filesystem;

namespace {

void RequireVerdict(const Json& result, const std::string& status, const std::string& reason) {
  INFO(bg::sdk::DumpJson(result, 2));
  REQUIRE(result["status"] == status);
  REQUIRE(result["reason"] == reason);
}

bool HasFinding(const Json& result, const std::string& reason) {
  for (const auto& f : result["details"]["findings"]) {
    if (f["reason"] == reason) return true;
  }
  return false;
}

// A private copy of a fixture, for tests that damage it further.
std::string CopyFixture(const TempDir& tmp, const std::string& name) {
  const std::string dir = tmp / name;
  fs::copy(TorchFixture(name), dir, fs::copy_options::recursive);
  return dir;
}

void RequirePasses(const std::string& name) {
  const Json r = CheckFixture(name);
  RequireVerdict(r, "pass", "");
  CHECK(r["details"]["findings"].empty());
  CHECK(r["metrics"]["load_ms"].get<double>() > 0);
  CHECK(r["metrics"].contains("total_ms"));
  for (const auto& o : r["details"]["outputs"]) {
    INFO(bg::sdk::DumpJson(o));
    CHECK(o["mismatched"] == 0);
    CHECK(o.contains("max_abs_err"));
    CHECK(o.contains("mean_rel_err"));
    CHECK(o.contains("min_rtol"));
    CHECK(o.contains("min_atol"));
  }
}

}  // namespace

TEST_CASE("describe reports the linked LibTorch and the CUDA it sees") {
  const auto r = RunProcess({BG_TORCHSCRIPT_PLUGIN, "--describe"});
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(r.out);
  CHECK(j["protocol"] == 1);
  CHECK(j["kind"] == "torchscript");
  CHECK(j["version"] == "0.1.0");
  CHECK_THAT(j["runtime"]["libtorch"].get<std::string>(), Catch::Matches(R"(\d+\.\d+\.\d+.*)"));
  CHECK(j["runtime"]["cuda"].is_boolean());
  CHECK(j["runtime"]["cuda_device_count"].is_number_integer());
  CHECK(j["model_formats"] == Json::array({"torchscript"}));
}

TEST_CASE("a Python-made bundle passes the agent's manifest and integrity checks") {
  const std::string dir = TorchFixture("tiny");
  auto manifest = bg::ParseManifest(ReadFile(dir + "/bundle.toml"));
  REQUIRE(manifest.ok());
  CHECK(manifest->model.signature.size() == 4);
  CHECK(manifest->inference->threads == 1);
  auto bundle = bg::BundleDir::Open(dir);
  REQUIRE(bundle.ok());
  bg::HashingVisitor hasher;
  auto walk = bg::WalkBundle(*bundle, bg::LimitsConfig{}, hasher);
  REQUIRE(walk.ok());
  const auto findings = bg::CompareWithManifest(*manifest, *walk);
  for (const auto& f : findings) INFO(f.path << ": " << f.detail);
  CHECK(findings.empty());
}

TEST_CASE("resnet18 made by Python passes") { RequirePasses("resnet18"); }

TEST_CASE("mobilenet_v3_small made by Python passes") { RequirePasses("mobilenet-v3-small"); }

TEST_CASE("a transformer encoder with dict outputs passes with its manifest tolerance") {
  const Json r = CheckFixture("transformer");
  RequireVerdict(r, "pass", "");
  bool saw_logits = false;
  for (const auto& o : r["details"]["outputs"]) {
    if (o["output"] != "logits") continue;
    saw_logits = true;
    CHECK(o["tolerance_source"] == "manifest");
    CHECK(o["rtol"] == 1e-5);
  }
  CHECK(saw_logits);
  CHECK(r["metrics"]["batch_rows_checked"].get<int>() > 0);
}

TEST_CASE("tuple outputs of six dtypes pass and integers compare exactly") {
  const Json r = CheckFixture("many-outputs");
  RequireVerdict(r, "pass", "");
  std::set<std::string> dtypes;
  for (const auto& o : r["details"]["outputs"]) dtypes.insert(o["dtype"].get<std::string>());
  CHECK(dtypes ==
        std::set<std::string>{"float32", "int64", "bool", "float16", "bfloat16", "float64"});
}

TEST_CASE("a traced model passes") { RequirePasses("traced-tiny"); }

TEST_CASE("a bfloat16 GRU is batch-consistent within its kernels' rounding") {
  // Rows run alone take other kernels than their batch; in bfloat16 that moves elements near
  // zero by far more than atol, which is noise, not a leak (leaky-batch still fails).
  RequirePasses("gru-bf16");
}

TEST_CASE("outputs too small for atol to see a change pass with a note saying so") {
  const Json r = CheckFixture("tiny-outputs");
  RequireVerdict(r, "pass", "");
  bool noted = false;
  for (const auto& n : r["details"]["notes"]) {
    noted = noted || n.get<std::string>().find("cannot tell a changed model") != std::string::npos;
  }
  CHECK(noted);
}

TEST_CASE("dropout left in training mode is training-mode naming the module") {
  const Json r = CheckFixture("dropout-train");
  RequireVerdict(r, "fail", "training-mode");
  CHECK(r["details"]["training_modules"] == Json::array({"drop"}));
  CHECK_THAT(r["summary"].get<std::string>(), Catch::Contains("drop"));
  CHECK(HasFinding(r, "nondeterministic"));
}

TEST_CASE("weights perturbed after export are parity-mismatch with error statistics") {
  const Json r = CheckFixture("perturbed-weights");
  RequireVerdict(r, "fail", "parity-mismatch");
  const Json& o = r["details"]["outputs"][0];
  CHECK(o["mismatched"].get<int>() > 0);
  CHECK(o["max_abs_err"].get<double>() > 1e-3);
  CHECK(o["min_atol"].get<double>() > 1e-3);
  CHECK(o.contains("worst"));
  // A tolerance loose enough (set by the operator's config) lets it through.
  const Json loose =
      CheckFixture("perturbed-weights", {{"tolerance", {{"0", {{"rtol", 10.0}, {"atol", 10.0}}}}}});
  RequireVerdict(loose, "pass", "");
}

TEST_CASE("a producer cannot loosen its own tolerance past the configured cap") {
  TempDir tmp;
  const std::string dir = CopyFixture(tmp, "perturbed-weights");
  ReplaceInFile(dir + "/bundle.toml", "\n[[files]]",
                "\n[parity.tolerance.\"0\"]\nrtol = 10.0\natol = 10.0\n\n[[files]]");
  const Json r = RunTorchscriptPlugin(PluginRequest(dir)).result;
  RequireVerdict(r, "fail", "parity-mismatch");
  CHECK(r["details"]["outputs"][0]["tolerance_source"] == "manifest, capped");
  CHECK(r["details"]["outputs"][0]["rtol"] == 0.1);
  const Json trusted =
      RunTorchscriptPlugin(PluginRequest(dir, {{"max_rtol", 100.0}, {"max_atol", 100.0}})).result;
  RequireVerdict(trusted, "pass", "");
}

TEST_CASE("NaN weights give non-finite-output") {
  const Json r = CheckFixture("non-finite");
  RequireVerdict(r, "fail", "non-finite-output");
  CHECK_THAT(r["summary"].get<std::string>(),
             Catch::Contains("non-finite value(s) where finite ones were expected"));
}

TEST_CASE("another preprocessing version on the module is preprocessing-spec-mismatch") {
  const Json r = CheckFixture("preprocessing-mismatch");
  RequireVerdict(r, "fail", "preprocessing-spec-mismatch");
  CHECK(r["details"]["preprocessing"]["model"] == "imagenet-norm-v1");
  CHECK(r["details"]["preprocessing"]["manifest"] == "imagenet-norm-v2");
}

TEST_CASE("a model of another architecture is architecture-mismatch listing the differences") {
  const Json r = CheckFixture("architecture-mismatch");
  RequireVerdict(r, "fail", "architecture-mismatch");
  const Json& a = r["details"]["architecture"];
  CHECK(a["extra"] == Json::array({"extra.weight", "extra.bias"}));
  CHECK(a["shape"][0] == "fc1.weight: [32, 8], declared [16, 8]");
  CHECK(a["missing"].empty());
}

TEST_CASE("models that are not loadable TorchScript are model-load-failed") {
  const std::pair<const char*, const char*> cases[] = {
      {"pickled-model", "PytorchStreamReader failed locating file constants.pkl"},
      {"truncated-model", "the file is truncated"},
      {"empty-model", "the file is empty"},
      {"garbage-model", "not a ZIP archive"},
  };
  for (const auto& [name, fragment] : cases) {
    INFO(name);
    const Json r = CheckFixture(name);
    RequireVerdict(r, "fail", "model-load-failed");
    CHECK_THAT(r["summary"].get<std::string>(), Catch::Contains(fragment));
    CHECK(r["details"]["findings"].size() == 1);
  }
}

TEST_CASE("a forward that raises is parity-mismatch carrying the model's message") {
  const Json r = CheckFixture("forward-raises");
  RequireVerdict(r, "fail", "parity-mismatch");
  CHECK_THAT(r["summary"].get<std::string>(), Catch::Contains("forward raised"));
  CHECK_THAT(r["summary"].get<std::string>(), Catch::Contains("deliberate failure in forward"));
  CHECK_THAT(r["details"]["findings"][0]["error"].get<std::string>(),
             Catch::Contains("Traceback of TorchScript"));
}

TEST_CASE("batch norm left in training mode is caught as training-mode and as batch-inconsistent") {
  const Json r = CheckFixture("batchnorm-train");
  RequireVerdict(r, "fail", "training-mode");
  CHECK(HasFinding(r, "batch-inconsistent"));
  const Json lenient = CheckFixture("batchnorm-train", {{"check_training_mode", false}});
  RequireVerdict(lenient, "fail", "batch-inconsistent");
}

TEST_CASE("cross-sample leakage in eval mode is batch-inconsistent") {
  const Json r = CheckFixture("leaky-batch");
  RequireVerdict(r, "fail", "batch-inconsistent");
  CHECK(r["details"]["findings"][0]["row"] == 0);
  RequireVerdict(CheckFixture("leaky-batch", {{"batch_consistency", false}}), "pass", "");
}

TEST_CASE("a model that never gives the same output twice is nondeterministic") {
  RequireVerdict(CheckFixture("nondeterministic"), "fail", "nondeterministic");
  RequireVerdict(CheckFixture("nondeterministic", {{"deterministic", "tolerance"}}), "pass", "");
}

TEST_CASE("an empty batch may raise unless an empty output is required") {
  RequireVerdict(CheckFixture("refuses-empty-batch"), "pass", "");
  const Json strict = CheckFixture("refuses-empty-batch", {{"empty_batch", "empty-output"}});
  RequireVerdict(strict, "fail", "edge-case-failed");
  CHECK_THAT(strict["summary"].get<std::string>(), Catch::Contains("empty batch"));
  RequireVerdict(CheckFixture("tiny", {{"empty_batch", "error"}}), "fail", "edge-case-failed");
}

TEST_CASE("a model accepting inputs of the wrong dtype is edge-case-failed unless allowed") {
  RequireVerdict(CheckFixture("casts-input"), "fail", "edge-case-failed");
  RequireVerdict(CheckFixture("casts-input", {{"wrong_dtype", "either"}}), "pass", "");
}

TEST_CASE("the latency budget applies to the p99 of the timed runs") {
  const Json slow = CheckFixture("tiny", {{"latency_budget_ms", 1e-9}, {"latency_runs", 5}});
  RequireVerdict(slow, "fail", "latency-budget");
  CHECK(slow["metrics"]["latency_p99_ms"].get<double>() > 0);
  const Json fine = CheckFixture("tiny", {{"latency_budget_ms", 1e9}, {"latency_runs", 5}});
  RequireVerdict(fine, "pass", "");
  CHECK(fine["metrics"]["latency_p99_ms"] == fine["metrics"]["latency_max_ms"]);
}

TEST_CASE("cuda without a CUDA runtime is skipped with a note or is an error alone") {
  const Json both = CheckFixture("tiny", {{"devices", {"cpu", "cuda"}}});
  RequireVerdict(both, "pass", "");
  bool noted = false;
  for (const auto& n : both["details"]["notes"])
    noted = noted || n.get<std::string>().rfind("cuda: not available", 0) == 0;
  CHECK(noted);
  RequireVerdict(CheckFixture("tiny", {{"devices", {"cuda"}}}), "error", "plugin-error");
}

TEST_CASE("a bad config is a plugin-error naming the key") {
  const Json r = CheckFixture("tiny", {{"latency_bugdet_ms", 5}});
  RequireVerdict(r, "error", "plugin-error");
  CHECK_THAT(r["summary"].get<std::string>(),
             Catch::Contains("config.latency_bugdet_ms: unknown key"));
}

TEST_CASE("inference threads are applied and reported") {
  const Json r = CheckFixture("tiny");
  CHECK(r["details"]["runtime"]["threads"] == 1);
}

TEST_CASE("a symlinked model or parity file is refused") {
  TempDir tmp;
  const std::string dir = CopyFixture(tmp, "tiny");
  fs::rename(dir + "/model.pt", tmp / "model.pt");
  fs::create_symlink(tmp / "model.pt", dir + "/model.pt");
  const Json model = RunTorchscriptPlugin(PluginRequest(dir)).result;
  RequireVerdict(model, "fail", "model-load-failed");
  CHECK_THAT(model["summary"].get<std::string>(), Catch::Contains("symlink"));

  const std::string dir2 = CopyFixture(tmp, "traced-tiny");
  fs::rename(dir2 + "/parity", tmp / "parity");
  fs::create_symlink(tmp / "parity", dir2 + "/parity");
  const Json parity = RunTorchscriptPlugin(PluginRequest(dir2)).result;
  RequireVerdict(parity, "fail", "parity-mismatch");
  CHECK_THAT(parity["summary"].get<std::string>(), Catch::Contains("parity data unusable"));
}

TEST_CASE("a model path escaping the bundle is refused") {
  Json request = PluginRequest(TorchFixture("tiny"));
  request["manifest"]["model"]["path"] = "../resnet18/model.pt";
  const Json r = RunTorchscriptPlugin(request).result;
  RequireVerdict(r, "fail", "model-load-failed");
  CHECK_THAT(r["summary"].get<std::string>(), Catch::Contains("not a safe relative path"));
}

TEST_CASE("damaged parity data is parity-mismatch naming the file") {
  TempDir tmp;
  const std::string dir = CopyFixture(tmp, "tiny");
  const std::string inputs = ReadFile(dir + "/parity/inputs.safetensors");
  WriteFile(dir + "/parity/inputs.safetensors", inputs.substr(0, inputs.size() - 3));
  const Json r = RunTorchscriptPlugin(PluginRequest(dir)).result;
  RequireVerdict(r, "fail", "parity-mismatch");
  CHECK_THAT(r["summary"].get<std::string>(), Catch::Contains("parity/inputs.safetensors"));
}

TEST_CASE("a malformed request gets an error result and nothing else on stdout") {
  ProcessOptions options;
  options.stdin_data = "{\"protocol\": 1, \"bundle_dir\": \"/nonexistent\"}";
  const auto r = RunProcess({BG_TORCHSCRIPT_PLUGIN}, options);
  REQUIRE(r.exit_code == 0);
  const Json j = Json::parse(r.out);
  CHECK(j["status"] == "error");
  CHECK(j["reason"] == "plugin-error");
  const Json missing =
      RunTorchscriptPlugin({{"protocol", 1},
                            {"bundle_dir", "/nonexistent"},
                            {"manifest", PluginRequest(TorchFixture("tiny"))["manifest"]}})
          .result;
  RequireVerdict(missing, "error", "plugin-error");
  CHECK_THAT(missing["summary"].get<std::string>(),
             Catch::Contains("/nonexistent is not a directory"));
}

TEST_CASE("the crashing fixture kills the plugin with SIGFPE and no result") {
  const PluginRun run = RunTorchscriptPlugin(PluginRequest(TorchFixture("forward-crashes")));
  CHECK(run.process.signal == SIGFPE);
  CHECK(run.process.out.empty());
}

TEST_CASE("the hanging fixture keeps the plugin busy until a CPU limit stops it") {
  // No wall-clock race: RLIMIT_CPU counts only CPU time the plugin itself burns.
  const PluginRun run =
      RunTorchscriptPlugin(PluginRequest(TorchFixture("forward-hangs")), "ulimit -t 3");
  CHECK((run.process.signal == SIGXCPU || run.process.signal == SIGKILL));
  CHECK(run.process.out.empty());
}

TEST_CASE("the allocating fixture grows until an address-space limit stops it") {
  const PluginRun run =
      RunTorchscriptPlugin(PluginRequest(TorchFixture("forward-allocates")), "ulimit -v 1500000");
  INFO(run.process.err);
  REQUIRE(run.process.exit_code == 0);
  RequireVerdict(run.result, "fail", "parity-mismatch");
  CHECK_THAT(run.result["summary"].get<std::string>(), Catch::Contains("can't allocate memory"));
}

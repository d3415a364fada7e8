// The static scan in the TorchScript plugin (plugins/modelscan), on models made at test time by
// tests/python/hostile_models.py: every hostile archive is refused (unsafe-model) before
// LibTorch sees it, and no payload ran (the file each one would create does not exist; the
// Python control test test_hostile_models.py shows that each live payload does create it when
// a naive reader loads it). Every real model the other tests use passes the scan.
#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "tests/integration/torchscript_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace bg::test;
using bg::sdk::Json;
namespace fs = std::filesystem;

namespace {

std::string Summary(const Json& r) { return r["summary"].get<std::string>(); }

// The scan's own report of a model file, without LibTorch (tests/tools/model_scan.cpp).
Json ScanFile(const std::string& path) {
  const auto r = RunProcess({BG_MODEL_SCAN, path});
  INFO(r.err);
  REQUIRE((r.exit_code == 0 || r.exit_code == 1));
  return Json::parse(r.out);
}

const std::set<std::string> kBrokenOnPurpose = {"model-load-failed", "unsafe-model"};

}  // namespace

TEST_CASE("every hostile model fails the scan, naming what it found") {
  // The scan alone (bg_model_scan: the plugin's ScanModel without LibTorch), on every case.
  const auto cases = HostileCases();
  REQUIRE(cases.size() >= 30);
  for (const auto& c : cases) {
    INFO("hostile-" << c.name);
    const Json scan = ScanFile(TorchFixture("hostile-" + c.name) + "/model.pt");
    INFO(bg::sdk::DumpJson(scan, 2));
    CHECK(c.reason == "unsafe-model");
    CHECK(scan["verdict"] == "unsafe");
    CHECK_THAT(scan["summary"].get<std::string>(), Catch::Contains(c.needle));
    CHECK_FALSE(fs::exists(PwnedMarker(c.name)));
  }
}

TEST_CASE("the plugin refuses hostile models before LibTorch loads anything") {
  // One case of each mechanism through the real plugin (each run starts LibTorch: seconds).
  for (const char* name : {"pickle-os-system", "stack-global-memo", "attribute-chain",
                           "nested-torch-load", "extra-pickle", "pickle-after-stop",
                           "polyglot-prefix", "duplicate-name", "zip-bomb", "traversal",
                           "unused-storage"}) {
    INFO(std::string("hostile-") + name);
    const Json r = CheckFixture(std::string("hostile-") + name);
    INFO(bg::sdk::DumpJson(r, 2));
    CHECK(r["status"] == "fail");
    CHECK(r["reason"] == "unsafe-model");
    const Json& scan = r["details"]["scan"];
    CHECK(scan["verdict"] == "unsafe");
    CHECK_FALSE(scan["findings"].empty());
    CHECK(r["details"]["findings"].size() == 1);
    CHECK(r["metrics"].contains("scan_ms"));
    CHECK_FALSE(r["metrics"].contains("load_ms"));  // torch::jit::load never ran
    CHECK_FALSE(fs::exists(PwnedMarker(name)));
  }
}

TEST_CASE("the scan names the global and the entry it found") {
  const Json r = CheckFixture("hostile-stack-global-memo");
  CHECK_THAT(Summary(r), Catch::Contains("data.pkl") && Catch::Contains("STACK_GLOBAL") &&
                             Catch::Contains("posix.system"));
  const Json& finding = r["details"]["findings"][0];
  CHECK(finding["reason"] == "unsafe-model");
  CHECK_THAT(finding["entry"].get<std::string>(), Catch::EndsWith("/data.pkl"));
  bool named = false;
  for (const auto& g : r["details"]["scan"]["globals"]) named = named || g == "posix.system";
  CHECK(named);
}

TEST_CASE("TorchScript code that writes files while LibTorch loads it is unsafe-model") {
  // __setstate__ runs inside torch::jit::load: without the scan, loading creates the file.
  for (const char* name : {"setstate-from-file", "setstate-save"}) {
    INFO(name);
    const Json r = CheckFixture(std::string("hostile-") + name);
    CHECK(r["reason"] == "unsafe-model");
    CHECK_THAT(Summary(r), Catch::Contains("/code/__torch__"));
    CHECK_FALSE(fs::exists(PwnedMarker(name)));
  }
}

TEST_CASE("a torch.save checkpoint is scanned, then model-load-failed or unsafe-model") {
  const Json state = CheckFixture("pickled-model");
  CHECK(state["reason"] == "model-load-failed");
  CHECK_THAT(Summary(state), Catch::Contains("torch.save checkpoint"));
  CHECK(state["details"]["scan"]["verdict"] == "not-torchscript");
  // A whole pickled module names the classes that unpickling would import and build.
  const Json module = CheckFixture("pickled-module");
  CHECK(module["reason"] == "unsafe-model");
  CHECK_THAT(Summary(module), Catch::Contains("Tiny is not allowed"));
  CHECK(CheckFixture("hostile-checkpoint-payload")["reason"] == "unsafe-model");
  CHECK(CheckFixture("hostile-legacy-payload")["reason"] == "unsafe-model");
}

TEST_CASE("no false positives: every model the tests use passes the scan") {
  std::size_t scanned = 0;
  for (const auto& [name, verdict] : TorchFixtureVerdicts()) {
    if (kBrokenOnPurpose.count(verdict)) continue;
    INFO(name << " (" << verdict << ")");
    const Json scan = ScanFile(TorchFixture(name) + "/model.pt");
    CHECK(scan["verdict"] == "clean");
    CHECK(scan["findings"].empty());
    CHECK(scan["format"] == "torchscript");
    ++scanned;
  }
  CHECK(scanned >= 15);
}

TEST_CASE("the real models pass the scan inside the plugin, which reports it") {
  for (const char* name : {"resnet18", "mobilenet-v3-small", "transformer", "traced-tiny",
                           "rezipped-tiny"}) {
    INFO(name);
    const Json r = CheckFixture(name);
    CHECK(r["status"] == "pass");
    const Json& scan = r["details"]["scan"];
    CHECK(scan["verdict"] == "clean");
    CHECK(scan["pickles"].get<int>() >= 2);
    CHECK(scan["scan_ms"].get<double>() >= 0);
    CHECK(r["metrics"]["scan_ms"].get<double>() >= 0);
    for (const auto& g : scan["globals"]) {
      const std::string global = g.get<std::string>();
      CHECK((global.rfind("__torch__", 0) == 0 || global.rfind("torch", 0) == 0 ||
             global == "collections.OrderedDict" || global == "builtins.complex"));
    }
  }
}

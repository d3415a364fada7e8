// The TorchScript plugin's logic that needs no LibTorch: comparison statistics, tolerances and
// their precedence, options, the manifest fields, parity case assembly, the architecture
// contract, row slicing and the report's choice of reason.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "plugins/sdk/safetensors_writer.h"
#include "plugins/torchscript/architecture.h"
#include "plugins/torchscript/archive_check.h"
#include "plugins/torchscript/bundle_manifest.h"
#include "plugins/torchscript/compare.h"
#include "plugins/torchscript/options.h"
#include "plugins/torchscript/parity_data.h"
#include "plugins/torchscript/report.h"
#include "plugins/torchscript/tensor_ops.h"
#include "plugins/torchscript/tolerance.h"

using namespace bg::torchscript;
using bg::sdk::Dtype;
using bg::sdk::HostTensor;
using bg::sdk::Json;

namespace {

template <typename T>
HostTensor Make(Dtype dtype, std::vector<std::int64_t> shape, std::vector<T> values) {
  HostTensor t{dtype, std::move(shape), std::string(values.size() * sizeof(T), '\0')};
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

HostTensor F32(std::vector<float> values) {
  const auto n = static_cast<std::int64_t>(values.size());
  return Make(Dtype::kF32, {n}, std::move(values));
}

const Tolerance kF32Default = DefaultTolerance(Dtype::kF32);

Json ManifestJson() {
  return Json::parse(R"({
    "name": "m", "version": "1",
    "model": {"path": "model.pt", "format": "torchscript",
              "signature": [{"name": "fc.weight", "kind": "parameter", "shape": [4, 8], "dtype": "float32"}]},
    "inference": {"device": "cpu", "threads": 2, "max_batch": 16},
    "preprocessing": {"version": "v2", "spec": "p.toml"},
    "parity": {"inputs": "in.safetensors", "expected": "out.safetensors",
               "tolerance": {"logits": {"rtol": 0.5, "atol": 0.001}}}
  })");
}

BundleManifest Manifest() {
  auto m = ParseBundleManifest(ManifestJson());
  REQUIRE(m.ok());
  return *m;
}

bg::sdk::SafetensorsFile File(const std::vector<bg::sdk::NamedTensor>& tensors) {
  auto bytes = bg::sdk::SerializeSafetensors(tensors);
  REQUIRE(bytes.ok());
  auto file = bg::sdk::SafetensorsFile::Parse(*bytes, "f");
  REQUIRE(file.ok());
  return std::move(file).value();
}

}  // namespace

TEST_CASE("identical tensors compare with zero error") {
  const auto r = CompareTensors(F32({1, 2, 3}), F32({1, 2, 3}), kF32Default);
  CHECK(r.ok());
  CHECK(r.numel == 3);
  CHECK(r.max_abs_err == 0);
  CHECK(r.min_atol == 0.0);
  CHECK(r.min_rtol == 0.0);
}

TEST_CASE("errors within tolerance pass and statistics are measured") {
  const Tolerance tol{0.01, 0.0, "test"};
  const auto r = CompareTensors(F32({1.005f, 2.0f, -4.02f}), F32({1, 2, -4}), tol);
  CHECK(r.ok());
  CHECK(r.max_abs_err == Approx(0.02).epsilon(1e-4));
  CHECK(r.mean_abs_err == Approx(0.025 / 3).epsilon(1e-3));
  CHECK(r.max_rel_err == Approx(0.005).epsilon(1e-3));
  CHECK(r.worst_index == 2);
}

TEST_CASE("a mismatch reports the smallest rtol and atol that would pass") {
  const Tolerance tol{0.1, 0.5, "test"};
  // |a-e| = 2 at e = 10: passes with atol >= 2 - 0.1*10 = 1, or rtol >= (2 - 0.5)/10 = 0.15.
  const auto r = CompareTensors(F32({12, 1}), F32({10, 1}), tol);
  CHECK_FALSE(r.ok());
  CHECK(r.mismatched == 1);
  CHECK(*r.min_atol == Approx(1.0));
  CHECK(*r.min_rtol == Approx(0.15));
  // Passing with either suggestion.
  CHECK(CompareTensors(F32({12, 1}), F32({10, 1}), {0.1, *r.min_atol + 1e-9, ""}).ok());
  CHECK(CompareTensors(F32({12, 1}), F32({10, 1}), {*r.min_rtol + 1e-9, 0.5, ""}).ok());
}

TEST_CASE("an expected zero that differs leaves no rtol that would pass") {
  const auto r = CompareTensors(F32({0.5f}), F32({0}), kF32Default);
  CHECK_FALSE(r.ok());
  CHECK_FALSE(r.min_rtol.has_value());
  CHECK(*r.min_atol == Approx(0.5));
  CHECK(r.max_rel_err == 0);  // relative errors cover non-zero expectations only
}

TEST_CASE("non-finite outputs where finite ones were expected are counted apart") {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  const auto r = CompareTensors(F32({1, nan, inf}), F32({1, 2, 3}), kF32Default);
  CHECK(r.mismatched == 2);
  CHECK(r.nonfinite == 2);
  CHECK(r.worst_index == 1);
  CHECK_FALSE(r.min_atol.has_value());
  // Where the expected value is NaN or infinite, the same value matches.
  CHECK(CompareTensors(F32({nan, -inf}), F32({nan, -inf}), kF32Default).ok());
  const auto other = CompareTensors(F32({1, inf}), F32({nan, -inf}), kF32Default);
  CHECK(other.mismatched == 2);
  CHECK(other.nonfinite == 0);
}

TEST_CASE("integers and bools compare exactly and dtype and shape must match") {
  const auto a = Make<std::int64_t>(Dtype::kI64, {3}, {1, 2, (1LL << 62) + 1});
  const auto b = Make<std::int64_t>(Dtype::kI64, {3}, {1, 2, (1LL << 62)});
  CHECK(DefaultTolerance(Dtype::kI64).atol == 0);
  CHECK(CompareTensors(a, b, DefaultTolerance(Dtype::kI64)).mismatched == 1);
  CHECK(CompareTensors(a, a, DefaultTolerance(Dtype::kI64)).ok());
  const auto t = Make<std::uint8_t>(Dtype::kBool, {2}, {1, 0});
  const auto f = Make<std::uint8_t>(Dtype::kBool, {2}, {1, 1});
  CHECK(CompareTensors(t, f, DefaultTolerance(Dtype::kBool)).mismatched == 1);
  CHECK(CompareTensors(F32({1}), Make<double>(Dtype::kF64, {1}, {1.0}), kF32Default).problem ==
        "dtype float32, expected float64");
  CHECK(
      CompareTensors(F32({1, 2}), Make<float>(Dtype::kF32, {1, 2}, {1, 2}), kF32Default).problem ==
      "shape [2], expected [1, 2]");
}

TEST_CASE("half and bfloat16 elements decode exactly") {
  CHECK(HalfToFloat(0x3c00) == 1.0f);
  CHECK(HalfToFloat(0xc000) == -2.0f);
  CHECK(HalfToFloat(0x0001) == std::ldexp(1.0f, -24));  // smallest subnormal
  CHECK(HalfToFloat(0x7bff) == 65504.0f);
  CHECK(std::isinf(HalfToFloat(0x7c00)));
  CHECK(std::isnan(HalfToFloat(0x7e00)));
  CHECK(BFloat16ToFloat(0x3f80) == 1.0f);
  CHECK(BFloat16ToFloat(0xc0a0) == -5.0f);
  const auto h = Make<std::uint16_t>(Dtype::kF16, {2}, {0x3c00, 0x4000});
  CHECK(ElementAsDouble(h, 1) == 2.0);
}

TEST_CASE("default tolerances follow torch.testing.assert_close") {
  CHECK(DefaultTolerance(Dtype::kF16).rtol == 1e-3);
  CHECK(DefaultTolerance(Dtype::kF16).atol == 1e-5);
  CHECK(DefaultTolerance(Dtype::kBF16).rtol == 1.6e-2);
  CHECK(DefaultTolerance(Dtype::kF32).rtol == 1.3e-6);
  CHECK(DefaultTolerance(Dtype::kF32).atol == 1e-5);
  CHECK(DefaultTolerance(Dtype::kF64).rtol == 1e-7);
  CHECK(DefaultTolerance(Dtype::kF64).atol == 1e-7);
  CHECK(DefaultTolerance(Dtype::kU8).rtol == 0);
}

TEST_CASE("tolerance precedence is config key then manifest key then config default") {
  const BundleManifest m = Manifest();
  auto options = ParseCheckOptions(
      Json::parse(R"({"rtol": 0.2, "tolerance": {"c.probs": {"rtol": 0.3, "atol": 0.0}}})"), m);
  REQUIRE(options.ok());
  CHECK(ResolveTolerance("c", "probs", Dtype::kF32, *options, m).rtol == 0.3);
  CHECK(ResolveTolerance("d", "probs", Dtype::kF32, *options, m).rtol == 0.2);
  CHECK(ResolveTolerance("d", "probs", Dtype::kF32, *options, m).atol == 1e-5);
  CHECK(ResolveTolerance("d", "probs", Dtype::kI64, *options, m).rtol == 0);  // ints stay exact
  // The manifest asks for rtol 0.5; the default cap is 0.1.
  const Tolerance capped = ResolveTolerance("c", "logits", Dtype::kF32, *options, m);
  CHECK(capped.rtol == 0.1);
  CHECK(capped.atol == 0.001);
  CHECK(capped.source == "manifest, capped");
  auto loose = ParseCheckOptions(Json::parse(R"({"max_rtol": 1})"), m);
  REQUIRE(loose.ok());
  CHECK(ResolveTolerance("c", "logits", Dtype::kF32, *loose, m).rtol == 0.5);
  CHECK(ResolveTolerance("c", "logits", Dtype::kF32, *loose, m).source == "manifest");
}

TEST_CASE("options default sensibly and refuse unknown keys and bad values") {
  const BundleManifest m = Manifest();
  auto defaults = ParseCheckOptions(Json::object(), m);
  REQUIRE(defaults.ok());
  CHECK(defaults->deterministic == DeterminismMode::kBitwise);
  CHECK(defaults->empty_batch == EmptyBatchMode::kEither);
  CHECK(defaults->wrong_dtype == WrongDtypeMode::kError);
  CHECK(defaults->devices == std::vector<std::string>{"cpu"});
  CHECK_FALSE(defaults->latency_budget_ms.has_value());
  auto set = ParseCheckOptions(Json::parse(R"({"deterministic": "tolerance", "empty_batch": "error",
      "wrong_dtype": "skip", "devices": ["cpu", "cuda"], "latency_budget_ms": 5, "latency_runs": 7,
      "batch_rows": 2, "check_training_mode": false, "jit_optimize": false})"),
                               m);
  REQUIRE(set.ok());
  CHECK(set->deterministic == DeterminismMode::kTolerance);
  CHECK(set->empty_batch == EmptyBatchMode::kError);
  CHECK(set->devices.size() == 2);
  CHECK(*set->latency_budget_ms == 5);
  CHECK_FALSE(set->check_training_mode);
  CHECK(defaults->tf32 == "libtorch-default");
  CHECK_FALSE(defaults->cuda_deterministic);
  auto cuda = ParseCheckOptions(Json::parse(R"({"tf32": "off", "cuda_deterministic": true})"), m);
  REQUIRE(cuda.ok());
  CHECK(cuda->tf32 == "off");
  CHECK(cuda->cuda_deterministic);
  auto bad = ParseCheckOptions(Json::parse(R"({"determinstic": "off", "latency_runs": 0,
      "devices": ["tpu"], "latency_budget_ms": 0, "tolerance": {"x": {"rtol": 1}},
      "tf32": "sometimes"})"),
                               m);
  REQUIRE_FALSE(bad.ok());
  const std::string msg = bad.status().message();
  CHECK_THAT(msg, Catch::Contains("config.determinstic: unknown key"));
  CHECK_THAT(msg, Catch::Contains("config.latency_runs"));
  CHECK_THAT(msg, Catch::Contains("config.devices"));
  CHECK_THAT(msg, Catch::Contains("config.latency_budget_ms: must be > 0"));
  CHECK_THAT(msg, Catch::Contains("config.tolerance.x.rtol: and atol are both required"));
  CHECK_THAT(msg, Catch::Contains("config.tf32"));
}

TEST_CASE("the manifest fields the check needs are read and validated") {
  const BundleManifest m = Manifest();
  CHECK(m.model_path == "model.pt");
  CHECK(m.threads == 2);
  CHECK(m.max_batch == 16);
  CHECK(m.preprocessing_version == "v2");
  CHECK(m.signature.at(0).shape == std::vector<std::int64_t>{4, 8});
  CHECK(m.tolerance.at("logits").atol == 0.001);
  Json no_inference = ManifestJson();
  no_inference.erase("inference");
  auto plain = ParseBundleManifest(no_inference);
  REQUIRE(plain.ok());
  CHECK(plain->threads == 0);
  CHECK_FALSE(plain->has_inference);
  Json broken = ManifestJson();
  broken["model"].erase("path");
  auto missing = ParseBundleManifest(broken);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(), Catch::Contains("manifest.model.path is missing"));
  broken = ManifestJson();
  broken["model"]["signature"][0]["shape"] = "4x8";
  CHECK_FALSE(ParseBundleManifest(broken).ok());
}

TEST_CASE("parity cases are assembled from the two files by name") {
  const auto inputs = File({{"b.0", F32({1})}, {"a.1", F32({2})}, {"a.0", F32({3})}});
  const auto expected = File({{"a.0", F32({4})}, {"a.logits", F32({5})}, {"b.0", F32({6})}});
  auto cases = BuildCases(inputs, expected);
  REQUIRE(cases.ok());
  REQUIRE(cases->size() == 2);
  CHECK((*cases)[0].name == "a");
  REQUIRE((*cases)[0].inputs.size() == 2);
  CHECK(ElementAsDouble((*cases)[0].inputs[1], 0) == 2);
  CHECK((*cases)[0].expected.size() == 2);
  CHECK(FindOutput((*cases)[0].expected, "logits") != nullptr);
}

TEST_CASE("malformed parity data is refused naming the tensor") {
  const auto one = File({{"a.0", F32({1})}});
  const std::pair<std::vector<bg::sdk::NamedTensor>, std::string> bad_inputs[] = {
      {{{"a.0", F32({1})}, {"a.2", F32({1})}}, "case 'a' lacks argument 1"},
      {{{"a.01", F32({1})}}, "tensor 'a.01': the argument index '01'"},
      {{{"a.x", F32({1})}}, "the argument index 'x'"},
      {{{"noindex", F32({1})}}, "tensor 'noindex' is not named <case>.<index or key>"},
      {{{"bad case.0", F32({1})}}, "case name 'bad case' does not match"},
  };
  for (const auto& [tensors, fragment] : bad_inputs) {
    INFO(fragment);
    auto r = BuildCases(File(tensors), one);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains(fragment));
  }
  auto orphan = BuildCases(one, File({{"a.0", F32({1})}, {"z.0", F32({1})}}));
  REQUIRE_FALSE(orphan.ok());
  CHECK_THAT(orphan.status().message(), Catch::Contains("case 'z', which has no inputs"));
  auto no_output = BuildCases(File({{"a.0", F32({1})}, {"b.0", F32({1})}}), one);
  REQUIRE_FALSE(no_output.ok());
  CHECK_THAT(no_output.status().message(), Catch::Contains("case 'b' has no expected output"));
  CHECK_FALSE(BuildCases(File({}), File({})).ok());
}

TEST_CASE("the architecture contract lists missing extra shape dtype and kind differences") {
  const std::vector<SignatureEntry> declared = {{"fc.weight", "parameter", {4, 8}, "float32"},
                                                {"fc.bias", "parameter", {4}, "float"},
                                                {"bn.running_mean", "buffer", {4}, "float32"},
                                                {"gone", "parameter", {1}, "float32"},
                                                {"steps", "buffer", {}, "long"}};
  const std::vector<ModuleTensor> actual = {{"fc.weight", "parameter", {4, 16}, "float32"},
                                            {"fc.bias", "parameter", {4}, "float32"},
                                            {"bn.running_mean", "parameter", {4}, "float32"},
                                            {"steps", "buffer", {}, "int32"},
                                            {"new.weight", "parameter", {2}, "float32"}};
  const ArchitectureDiff diff = CompareSignature(declared, actual);
  CHECK(diff.missing == std::vector<std::string>{"gone"});
  CHECK(diff.extra == std::vector<std::string>{"new.weight"});
  CHECK(diff.shape == std::vector<std::string>{"fc.weight: [4, 16], declared [4, 8]"});
  CHECK(diff.dtype == std::vector<std::string>{"steps: int32, declared long"});
  CHECK(diff.kind == std::vector<std::string>{"bn.running_mean: parameter, declared buffer"});
  CHECK(diff.count() == 5);
  CHECK_THAT(diff.Summary(), Catch::StartsWith("1 missing (gone); 1 extra (new.weight)"));
  CHECK(CompareSignature(declared, {}).missing.size() == declared.size());
  CHECK(CanonicalDtypeName("double") == "float64");
}

TEST_CASE("rows slice off the leading dimension and edge inputs are made") {
  const auto t = Make<float>(Dtype::kF32, {3, 2}, {1, 2, 3, 4, 5, 6});
  const auto row = SliceRows(t, 1, 1);
  CHECK(row.shape == std::vector<std::int64_t>{1, 2});
  CHECK(ElementAsDouble(row, 0) == 3);
  CHECK(SliceRows(t, 0, 0).shape == std::vector<std::int64_t>{0, 2});
  CHECK(SliceRows(t, 0, 0).data.empty());
  CHECK(SharedLeadingDim({t, Make<float>(Dtype::kF32, {3}, {1, 2, 3})}) == 3);
  CHECK_FALSE(SharedLeadingDim({t, Make<float>(Dtype::kF32, {2}, {1, 2})}).has_value());
  CHECK_FALSE(SharedLeadingDim({t, Make<float>(Dtype::kF32, {}, {1})}).has_value());
  const auto wrong = WrongDtypeZeros(t);
  CHECK(wrong.dtype == Dtype::kI64);
  CHECK(wrong.data.size() == 6 * 8);
  CHECK(WrongDtypeZeros(Make<std::int64_t>(Dtype::kI64, {1}, {7})).dtype == Dtype::kF32);
  CHECK(IndexString({2, 3}, 4) == "[1, 1]");
}

TEST_CASE("the report fails with the most fundamental reason and keeps every finding") {
  Report report;
  CHECK(report.Finish("fine").status == bg::sdk::Outcome::kPass);
  report.Add(reason::kLatency, "slow");
  report.Add(reason::kParity, "case a differs", {{"case", "a"}});
  report.Add(reason::kTrainingMode, "dropout in training mode");
  report.Add(reason::kParity, "case b differs");
  report.Note("cuda skipped");
  const auto result = report.Finish("fine");
  CHECK(result.status == bg::sdk::Outcome::kFail);
  CHECK(result.reason == "training-mode");
  CHECK(result.summary == "dropout in training mode (+3 more findings)");
  CHECK(result.details["findings"].size() == 4);
  CHECK(result.details["findings"][1]["case"] == "a");
  CHECK(result.details["notes"][0] == "cuda skipped");
}

TEST_CASE("model files that cannot be TorchScript archives are named before LibTorch reads them") {
  const std::string zip = std::string("PK\x03\x04", 4) + std::string(100, 'x') +
                          std::string("PK\x05\x06", 4) + std::string(18, '\0');
  CHECK(ArchiveProblem(zip).empty());
  CHECK(ArchiveProblem("") == "the file is empty");
  CHECK_THAT(ArchiveProblem("\x80\x02garbage"), Catch::Contains("not a ZIP archive"));
  CHECK_THAT(ArchiveProblem(zip.substr(0, 60)), Catch::Contains("truncated"));
  CHECK(ArchiveProblem(std::string("\x18\0\0\0PTMF", 8)).empty());  // flatbuffer: LibTorch decides
}

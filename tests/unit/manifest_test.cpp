#include <catch2/catch.hpp>
#include <regex>

#include "agent/manifest/manifest.h"
#include "tests/support/bundle_writer.h"

using namespace bg;

namespace {

std::string ValidText() { return test::RenderManifest(test::BundleSpec{}); }

// Removes the first line that starts with `key =` inside the table headed `[table]` ("" = top).
std::string WithoutKey(std::string text, const std::string& table, const std::string& key) {
  text = "\n" + text;  // so that the first line, too, is found as "\n<key> = "
  std::size_t from = 0;
  if (!table.empty()) {
    from = text.find("[" + table + "]\n");
    REQUIRE(from != std::string::npos);
  }
  const std::size_t at = text.find("\n" + key + " = ", from);
  REQUIRE(at != std::string::npos);
  const std::size_t end = text.find('\n', at + 1);
  text.erase(at, end - at);
  return text.substr(1);
}

std::string WithValue(std::string text, const std::string& table, const std::string& key,
                      const std::string& value) {
  text = "\n" + text;
  std::size_t from = 0;
  if (!table.empty()) from = text.find("[" + table + "]\n");
  const std::size_t at = text.find("\n" + key + " = ", from);
  REQUIRE(at != std::string::npos);
  const std::size_t end = text.find('\n', at + 1);
  text.replace(at, end - at, "\n" + key + " = " + value);
  return text.substr(1);
}

std::string ErrorOf(const std::string& text) {
  auto m = ParseManifest(text);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().reason() == Reason::kManifestInvalid);
  return m.status().message();
}

}  // namespace

TEST_CASE("the writer's default manifest is valid and fully parsed") {
  auto m = ParseManifest(ValidText());
  INFO(m.status().message());
  REQUIRE(m.ok());
  CHECK(m->name == "test-model");
  CHECK(m->version == "1.0.0");
  CHECK(m->created == "2026-11-28T10:00:00Z");
  CHECK(m->source.commit == "0123456789abcdef0123456789abcdef01234567");
  CHECK_FALSE(m->source.dirty);
  CHECK(m->source.lockfile_path == "requirements.lock");
  CHECK(m->model.format == "torchscript");
  CHECK(m->parity.inputs == "parity/inputs.safetensors");
  CHECK(m->files.size() == 5);
  CHECK(m->FindFile("model.pt") != nullptr);
  CHECK_FALSE(m->inference.has_value());
}

TEST_CASE("every required field, when missing, is named") {
  const std::vector<std::pair<std::string, std::string>> required = {
      {"", "format"}, {"", "name"}, {"", "version"}, {"", "created"},
      {"source", "commit"}, {"source", "dirty"}, {"source", "lockfile_path"},
      {"source", "preprocessing_path"}, {"model", "path"}, {"model", "format"},
      {"dependencies", "lockfile"}, {"preprocessing", "version"}, {"preprocessing", "spec"},
      {"parity", "inputs"}, {"parity", "expected"},
  };
  for (const auto& [table, key] : required) {
    const std::string dotted = table.empty() ? key : table + "." + key;
    INFO(dotted);
    CHECK_THAT(ErrorOf(WithoutKey(ValidText(), table, key)),
               Catch::Contains(dotted + ": missing"));
  }
}

TEST_CASE("missing tables and an empty [[files]] are named") {
  for (const std::string table : {"source", "model", "dependencies", "preprocessing", "parity"}) {
    std::string text = ValidText();
    text = std::regex_replace(text, std::regex("\\[" + table + "\\]"), "[x_" + table + "]");
    INFO(table);
    CHECK_THAT(ErrorOf(text), Catch::Contains(table + ": missing"));
  }
  std::string text = ValidText();
  text.erase(text.find("[[files]]"));
  CHECK_THAT(ErrorOf(text), Catch::Contains("files: missing"));
}

TEST_CASE("ill-typed fields are named with what was expected") {
  const std::vector<std::tuple<std::string, std::string, std::string, std::string>> cases = {
      {"", "format", "\"1\"", "format: expected integer, found string"},
      {"", "name", "7", "name: expected string, found integer"},
      {"", "created", "\"2026-11-28T10:00:00Z\"", "created: expected date-time, found string"},
      {"", "created", "2026-11-28T10:00:00", "created: expected date-time, found local date-time"},
      {"", "created", "2026-11-28", "created: expected date-time, found date"},
      {"source", "dirty", "\"no\"", "source.dirty: expected boolean, found string"},
      {"source", "commit", "12", "source.commit: expected string"},
      {"model", "path", "[\"model.pt\"]", "model.path: expected string, found array"},
      {"parity", "inputs", "true", "parity.inputs: expected string, found boolean"},
  };
  for (const auto& [table, key, value, expected] : cases) {
    INFO(key << " = " << value);
    CHECK_THAT(ErrorOf(WithValue(ValidText(), table, key, value)), Catch::Contains(expected));
  }
}

TEST_CASE("format must be 1") {
  CHECK_THAT(ErrorOf(WithValue(ValidText(), "", "format", "2")),
             Catch::Contains("unsupported format 2"));
}

TEST_CASE("names at and past their limits") {
  CHECK(IsValidBundleName("a"));
  CHECK(IsValidBundleName("0"));
  CHECK(IsValidBundleName("fraud-scorer.v2_x"));
  CHECK(IsValidBundleName(std::string(64, 'a')));
  CHECK_FALSE(IsValidBundleName(std::string(65, 'a')));
  CHECK_FALSE(IsValidBundleName(""));
  CHECK_FALSE(IsValidBundleName("-a"));
  CHECK_FALSE(IsValidBundleName(".a"));
  CHECK_FALSE(IsValidBundleName("Fraud"));
  CHECK_FALSE(IsValidBundleName("a/b"));
  CHECK_FALSE(IsValidBundleName("a b"));
  CHECK_FALSE(IsValidBundleName("a@b"));
  test::BundleSpec spec;
  spec.name = std::string(65, 'a');
  CHECK_THAT(ErrorOf(test::RenderManifest(spec)), Catch::Contains("name: \"aaaa"));
  spec.name = std::string(64, 'a');
  CHECK(ParseManifest(test::RenderManifest(spec)).ok());
}

TEST_CASE("versions at and past their limits") {
  CHECK(IsValidBundleVersion("2026.11.28-1"));
  CHECK(IsValidBundleVersion("1.0+cu121"));
  CHECK(IsValidBundleVersion("V_2"));
  CHECK(IsValidBundleVersion(std::string(64, '1')));
  CHECK_FALSE(IsValidBundleVersion(std::string(65, '1')));
  CHECK_FALSE(IsValidBundleVersion(""));
  CHECK_FALSE(IsValidBundleVersion(".1"));
  CHECK_FALSE(IsValidBundleVersion("+1"));
  CHECK_FALSE(IsValidBundleVersion("1/2"));
  CHECK_FALSE(IsValidBundleVersion("1 2"));
  CHECK_FALSE(IsValidBundleVersion("1@2"));
  test::BundleSpec spec;
  spec.version = "../../etc";
  CHECK_THAT(ErrorOf(test::RenderManifest(spec)), Catch::Contains("version: \"../../etc\""));
}

TEST_CASE("commits must be full lower-case SHA-1 or SHA-256 ids") {
  test::BundleSpec spec;
  spec.commit = std::string(64, 'f');
  CHECK(ParseManifest(test::RenderManifest(spec)).ok());
  for (const std::string& bad : {std::string(39, 'a'), std::string(41, 'a'), std::string(40, 'A'),
                                std::string("3f2a9c"), std::string(40, 'g')}) {
    spec.commit = bad;
    INFO(bad);
    CHECK_THAT(ErrorOf(test::RenderManifest(spec)), Catch::Contains("source.commit"));
  }
}

TEST_CASE("file paths must be non-empty, unique, and not the manifest itself") {
  CHECK(IsSafeRelativePath("a/b.txt"));
  CHECK_FALSE(IsSafeRelativePath("/etc/passwd"));
  CHECK_FALSE(IsSafeRelativePath("../x"));
  CHECK_FALSE(IsSafeRelativePath("a/../../x"));
  CHECK_FALSE(IsSafeRelativePath("a//b"));
  CHECK_FALSE(IsSafeRelativePath("a/./b"));
  CHECK_FALSE(IsSafeRelativePath("a/"));
  CHECK_FALSE(IsSafeRelativePath("a\\b"));
  CHECK_FALSE(IsSafeRelativePath(std::string("a\0b", 3)));

  const std::string text = ValidText();
  // An escaping path parses: integrity rejects it as unsafe-path (integrity_test.cpp).
  std::string escaping = text + "[[files]]\npath = \"../outside\"\nsize = 1\nsha256 = \"" +
                         std::string(64, 'a') + "\"\n";
  CHECK(ParseManifest(escaping).ok());
  std::string empty = text + "[[files]]\npath = \"\"\nsize = 1\nsha256 = \"" +
                      std::string(64, 'a') + "\"\n";
  CHECK_THAT(ErrorOf(empty), Catch::Contains("path: must not be empty"));
  std::string twice = text + "[[files]]\npath = \"model.pt\"\nsize = 1\nsha256 = \"" +
                      std::string(64, 'a') + "\"\n";
  CHECK_THAT(ErrorOf(twice), Catch::Contains("\"model.pt\" is listed twice"));
  std::string self = text + "[[files]]\npath = \"bundle.toml\"\nsize = 1\nsha256 = \"" +
                     std::string(64, 'a') + "\"\n";
  CHECK_THAT(ErrorOf(self), Catch::Contains("must not be listed"));
  std::string bad_hash = text + "[[files]]\npath = \"x\"\nsize = 1\nsha256 = \"ABC\"\n";
  CHECK_THAT(ErrorOf(bad_hash), Catch::Contains("sha256: must be 64 lower-case hex digits"));
  std::string negative = text + "[[files]]\npath = \"x\"\nsize = -1\nsha256 = \"" +
                         std::string(64, 'a') + "\"\n";
  CHECK_THAT(ErrorOf(negative), Catch::Contains("size: must be >= 0"));
}

TEST_CASE("every referenced file must be listed in [[files]]") {
  test::BundleSpec spec;
  spec.model_path = "weights/model.pt";
  std::string text = test::RenderManifest(spec);
  text = WithValue(text, "model", "path", "\"other.pt\"");
  CHECK_THAT(ErrorOf(text), Catch::Contains("model.path: \"other.pt\" is not listed in [[files]]"));
}

TEST_CASE("unknown keys are errors, [metadata] is free-form") {
  CHECK_THAT(ErrorOf(ValidText() + "surprise = 1\n"), Catch::Contains("surprise: unknown key"));
  std::string text = ValidText();
  text.insert(text.find("[model]"), "[metadata]\nowner = \"fraud-team\"\nticket = 42\n\n");
  auto m = ParseManifest(text);
  INFO(m.status().message());
  REQUIRE(m.ok());
  CHECK(m->metadata["owner"] == "fraud-team");
  std::string in_table = WithValue(ValidText(), "model", "format", "\"torchscript\"\nweights = 1");
  CHECK_THAT(ErrorOf(in_table), Catch::Contains("model.weights: unknown key"));
}

TEST_CASE("optional sections are validated: signature, inference, tolerance") {
  test::BundleSpec spec;
  spec.extra_toml =
      "[inference]\ndevice = \"cuda\"\nthreads = 4\nmax_batch = 32\n\n"
      "[parity.tolerance.logits]\nrtol = 1e-4\natol = 0\n\n"
      "[[model.signature]]\nname = \"0.weight\"\nkind = \"parameter\"\nshape = [32, 16]\ndtype = \"float32\"\n\n"
      "[[model.signature]]\nname = \"1.running_mean\"\nkind = \"buffer\"\nshape = [32]\ndtype = \"float32\"\n";
  auto m = ParseManifest(test::RenderManifest(spec));
  INFO(m.status().message());
  REQUIRE(m.ok());
  REQUIRE(m->inference.has_value());
  CHECK(m->inference->device == "cuda");
  CHECK(m->inference->threads == 4);
  CHECK(m->parity.tolerance.at("logits").rtol == Approx(1e-4));
  REQUIRE(m->model.signature.size() == 2);
  CHECK(m->model.signature[0].shape == std::vector<std::int64_t>{32, 16});
  CHECK(m->model.signature[1].kind == "buffer");
  const Json j = m->ToJson();
  CHECK(j["model"]["signature"][0]["name"] == "0.weight");
  CHECK(j["inference"]["max_batch"] == 32);

  spec.extra_toml = "[inference]\ndevice = \"tpu\"\nthreads = 0\n";
  const std::string e1 = ErrorOf(test::RenderManifest(spec));
  CHECK_THAT(e1, Catch::Contains("inference.device: must be \"cpu\" or \"cuda\""));
  CHECK_THAT(e1, Catch::Contains("inference.threads: must be between 1"));
  spec.extra_toml = "[parity.tolerance.logits]\nrtol = -1\n";
  const std::string e2 = ErrorOf(test::RenderManifest(spec));
  CHECK_THAT(e2, Catch::Contains("parity.tolerance.logits.rtol: must be >= 0"));
  CHECK_THAT(e2, Catch::Contains("parity.tolerance.logits.atol: missing"));
  spec.extra_toml = "[[model.signature]]\nname = \"w\"\nkind = \"weight\"\nshape = [-1]\ndtype = \"float33\"\n";
  const std::string e3 = ErrorOf(test::RenderManifest(spec));
  CHECK_THAT(e3, Catch::Contains("model.signature[0].kind"));
  CHECK_THAT(e3, Catch::Contains("model.signature[0].shape: dimensions must be >= 0"));
  CHECK_THAT(e3, Catch::Contains("model.signature[0].dtype: unknown dtype \"float33\""));
}

TEST_CASE("bad TOML is manifest-invalid with its line") {
  CHECK_THAT(ErrorOf("format = 1\nname = \n"), Catch::StartsWith("bundle.toml:2:"));
  CHECK_THAT(ErrorOf(""), Catch::Contains("format: missing"));
}

TEST_CASE("all problems are reported at once, each with its line") {
  std::string text = WithValue(ValidText(), "", "name", "\"Bad Name\"");
  text = WithValue(text, "source", "dirty", "1");
  const std::string e = ErrorOf(text);
  CHECK_THAT(e, Catch::Contains("bundle.toml:2: name:"));
  CHECK_THAT(e, Catch::Contains("source.dirty: expected boolean"));
}

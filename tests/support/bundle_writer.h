// BundleWriter: makes a valid bundle (correct sizes and sha256) from a short description, so a
// test makes a good or a broken bundle in a few lines:
//
//   BundleSpec spec;                       // defaults: a complete, valid bundle
//   spec.files["extra/notes.txt"] = "hi";  // any file, listed in [[files]] with its hash
//   std::string dir = WriteBundle(tmp / "b1", spec);
//   WriteFile(dir + "/model.pt", "tampered");   // then break it the way the test needs
//
// The default model, parity files and lockfile are placeholders (not a real TorchScript model):
// enough for the manifest, integrity, provenance and agent tests. Parity tests make real ones
// with scripts/bundlegate_pack.py.
#pragma once

#include <map>
#include <string>

namespace bg::test {

struct BundleSpec {
  std::string name = "test-model";
  std::string version = "1.0.0";
  std::string created = "2026-11-28T10:00:00Z";
  std::string repo = "git@example.com:acme/test-model.git";
  std::string commit = "0123456789abcdef0123456789abcdef01234567";
  bool dirty = false;
  std::string branch = "main";
  std::string lockfile_path = "requirements.lock";           // in the training repo
  std::string preprocessing_path = "conf/preprocess.toml";   // in the training repo
  std::string model_path = "model.pt";
  std::string model_format = "torchscript";
  std::string lockfile = "requirements.lock";  // in the bundle
  std::string preprocessing_version = "imagenet-norm-v2";
  std::string preprocessing_spec = "preprocess.toml";
  std::string parity_inputs = "parity/inputs.safetensors";
  std::string parity_expected = "parity/expected.safetensors";
  // Bundle files: path -> content. The referenced files above get placeholder content unless
  // given here. Every file here is listed in [[files]] with its true size and sha256.
  std::map<std::string, std::string> files;
  // Files written to the bundle but left out of [[files]] (to make unlisted-file).
  std::map<std::string, std::string> unlisted_files;
  // TOML appended after [parity] and before [[files]], e.g. "[inference]\nthreads = 2\n".
  std::string extra_toml;
};

// The placeholder content of the default files, by path.
std::map<std::string, std::string> DefaultBundleFiles(const BundleSpec& spec);
// bundle.toml's text for `spec`.
std::string RenderManifest(const BundleSpec& spec);
// Writes the bundle into directory `dir` (created) and returns `dir`.
std::string WriteBundle(const std::string& dir, const BundleSpec& spec = {});

}  // namespace bg::test

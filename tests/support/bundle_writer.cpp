#include "tests/support/bundle_writer.h"

#include <filesystem>
#include <sstream>

#include "agent/core/sha256.h"
#include "tests/support/temp_dir.h"

namespace bg::test {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::map<std::string, std::string> AllFiles(const BundleSpec& spec) {
  auto files = DefaultBundleFiles(spec);
  for (const auto& [path, content] : spec.files) files[path] = content;
  return files;
}

}  // namespace

std::map<std::string, std::string> DefaultBundleFiles(const BundleSpec& spec) {
  return {
      {spec.model_path, "placeholder model for " + spec.name + " " + spec.version + "\n"},
      {spec.lockfile, "numpy==1.26.4\ntorch==1.13.1\n"},
      {spec.preprocessing_spec, "[resize]\nsize = 256\n[normalize]\nmean = [0.485, 0.456, 0.406]\n"},
      {spec.parity_inputs, "placeholder parity inputs\n"},
      {spec.parity_expected, "placeholder parity outputs\n"},
  };
}

std::string RenderManifest(const BundleSpec& spec) {
  std::ostringstream t;
  t << "format = 1\n"
    << "name = " << Quote(spec.name) << "\n"
    << "version = " << Quote(spec.version) << "\n"
    << "created = " << spec.created << "\n\n"
    << "[source]\n"
    << "repo = " << Quote(spec.repo) << "\n"
    << "commit = " << Quote(spec.commit) << "\n"
    << "dirty = " << (spec.dirty ? "true" : "false") << "\n"
    << "branch = " << Quote(spec.branch) << "\n"
    << "lockfile_path = " << Quote(spec.lockfile_path) << "\n"
    << "preprocessing_path = " << Quote(spec.preprocessing_path) << "\n\n"
    << "[model]\n"
    << "path = " << Quote(spec.model_path) << "\n"
    << "format = " << Quote(spec.model_format) << "\n\n"
    << "[dependencies]\n"
    << "lockfile = " << Quote(spec.lockfile) << "\n\n"
    << "[preprocessing]\n"
    << "version = " << Quote(spec.preprocessing_version) << "\n"
    << "spec = " << Quote(spec.preprocessing_spec) << "\n\n"
    << "[parity]\n"
    << "inputs = " << Quote(spec.parity_inputs) << "\n"
    << "expected = " << Quote(spec.parity_expected) << "\n\n";
  if (!spec.extra_toml.empty()) t << spec.extra_toml << "\n";
  for (const auto& [path, content] : AllFiles(spec)) {
    t << "[[files]]\n"
      << "path = " << Quote(path) << "\n"
      << "size = " << content.size() << "\n"
      << "sha256 = " << Quote(Sha256Hex(content)) << "\n\n";
  }
  return t.str();
}

std::string WriteBundle(const std::string& dir, const BundleSpec& spec) {
  std::filesystem::create_directories(dir);
  for (const auto& [path, content] : AllFiles(spec)) WriteFile(dir + "/" + path, content);
  for (const auto& [path, content] : spec.unlisted_files) WriteFile(dir + "/" + path, content);
  WriteFile(dir + "/bundle.toml", RenderManifest(spec));
  return dir;
}

}  // namespace bg::test

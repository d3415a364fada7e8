// `bundlegate --version` / `bundlegate version`: our version and the linked libraries'.
#include <CLI/CLI.hpp>
#include <git2.h>
#include <openssl/crypto.h>
#include <spdlog/version.h>
#include <boost/version.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/cli/build_info.h"
#include "agent/cli/command.h"
#include "agent/cli/version_text.h"
#include "agent/toml/toml_document.h"

namespace bg::cli {

std::string VersionText() {
  int major = 0, minor = 0, rev = 0;
  git_libgit2_version(&major, &minor, &rev);
  std::string text = "bundlegate " BUNDLEGATE_VERSION "\n";
  text += "  libgit2 " + std::to_string(major) + "." + std::to_string(minor) + "." +
          std::to_string(rev) + "\n";
  text += std::string("  ") + OpenSSL_version(OPENSSL_VERSION) + "\n";
  text += "  spdlog " + std::to_string(SPDLOG_VER_MAJOR) + "." + std::to_string(SPDLOG_VER_MINOR) +
          "." + std::to_string(SPDLOG_VER_PATCH) + "\n";
  text += "  Boost " + std::to_string(BOOST_VERSION / 100000) + "." +
          std::to_string(BOOST_VERSION / 100 % 1000) + "\n";
  text += "  nlohmann_json " + std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
          std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
          std::to_string(NLOHMANN_JSON_VERSION_PATCH) + "\n";
  text += "  toml++ " + TomlLibraryVersion() + "\n";
  const std::string torch = BUNDLEGATE_BUILD_TORCH_VERSION;
  text += "  LibTorch (TorchScript plugin, at build time) " + (torch.empty() ? "none" : torch) + "\n";
  return text;
}

Command VersionCommand() {
  return {"version", "Print the version of bundlegate and of its libraries", [](CLI::App&) {
            return [] {
              std::fputs(VersionText().c_str(), stdout);
              return kExitOk;
            };
          }};
}

}  // namespace bg::cli

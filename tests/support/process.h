// Running real processes from tests: the bundlegate binary, git, python3, plugins.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace bg::test {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
  bool timed_out = false;
};

struct ProcessOptions {
  std::string cwd;
  std::map<std::string, std::string> env;  // added to (or overriding) the current environment
  std::string stdin_data;
  int timeout_s = 120;
};

// Runs argv[0] (searched in PATH) to completion, capturing stdout and stderr.
ProcessResult RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Runs the bundlegate binary under test with `args`.
ProcessResult RunBundlegate(const std::vector<std::string>& args, const ProcessOptions& options = {});

// Path of the bundlegate binary, and of the directory holding it and the in-tree plugins.
std::string BundlegateBinary();
std::string BinDir();
std::string SourceDir();
// The Debian python3 that has torch (not a pyenv shim on PATH).
std::string SystemPython();

}  // namespace bg::test

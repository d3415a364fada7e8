// A minimal plugin built on the SDK, for plugin_sdk_test.cpp: its check does what the request's
// config says, to exercise the SDK's exception barrier and stdout guard in a real process.
//   {"chatter": true}   print to stdout (std::cout, printf, write(1)) before answering
//   {"throw": "std"}    throw a std::runtime_error;  {"throw": "int"}: throw an int
//   otherwise           pass, echoing bundle_dir in details
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "plugins/sdk/plugin_main.h"

namespace {

bg::sdk::PluginResult Check(const bg::sdk::Request& request) {
  if (request.config.value("chatter", false)) {
    std::cout << "chatter from std::cout" << std::endl;
    std::printf("chatter from printf\n");
    std::fflush(stdout);
    (void)!::write(STDOUT_FILENO, "chatter from write\n", 19);
  }
  const std::string what = request.config.value("throw", "");
  if (what == "std") throw std::runtime_error("boom\nsecond line");
  if (what == "int") throw 42;
  auto result = bg::sdk::PluginResult::Pass("ok");
  result.details["bundle_dir"] = request.bundle_dir;
  result.metrics["answer"] = 42;
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  bg::sdk::PluginSpec spec;
  spec.kind = "sdk-test";
  spec.version = "1.2.3";
  spec.describe_runtime = [] { return bg::sdk::Json{{"language", "c++"}}; };
  spec.check = Check;
  return bg::sdk::RunPlugin(argc, argv, spec);
}

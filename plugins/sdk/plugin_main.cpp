#include "plugins/sdk/plugin_main.h"

#include <unistd.h>

#include <exception>
#include <iostream>
#include <string_view>

#include "plugins/sdk/result_channel.h"
#include "plugins/sdk/serve.h"

namespace bg::sdk {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitWriteFailed = 1;
constexpr int kExitUsage = 2;

std::string Usage(const PluginSpec& spec) {
  return "usage: bundlegate-check-" + spec.kind +
         " [--describe | --serve | --help]\n"
         "  Reads one bundlegate plugin request (JSON, protocol 1) on stdin and prints one\n"
         "  result (JSON) on stdout. --describe prints what this plugin is and links.\n";
}

PluginResult InternalError(const std::string& what) {
  auto r = PluginResult::Error(kReasonPluginError, "the check could not run: " + what);
  r.details["error"] = what;
  return r;
}

// Runs `fn`, turning anything it throws into an error result.
template <typename Fn>
PluginResult Barrier(Fn&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return InternalError(std::string("internal error: ") + e.what());
  } catch (...) {
    return InternalError("internal error: unknown exception");
  }
}

PluginResult RunCheck(const PluginSpec& spec) {
  return Barrier([&] {
    auto request = ReadRequest(STDIN_FILENO);
    if (!request.ok()) return InternalError(request.status().message());
    return spec.check(*request);
  });
}

int PrintDescription(ResultChannel& channel, const PluginSpec& spec) {
  std::string text;
  try {
    text = DumpJson(Describe(spec));
  } catch (const std::exception& e) {
    std::cerr << "bundlegate-check-" << spec.kind << ": --describe failed: " << e.what() << "\n";
    return kExitWriteFailed;
  }
  return channel.WriteLine(text).ok() ? kExitOk : kExitWriteFailed;
}

}  // namespace

Json Describe(const PluginSpec& spec) {
  Json j;
  j["protocol"] = kProtocolVersion;
  j["kind"] = spec.kind;
  j["version"] = spec.version;
  j["runtime"] = spec.describe_runtime ? spec.describe_runtime() : Json::object();
  if (spec.serve) j["serve"] = true;
  for (const auto& [key, value] : spec.describe_extra.items()) j[key] = value;
  return j;
}

int RunPlugin(int argc, char** argv, const PluginSpec& spec) {
  auto channel = ResultChannel::Open();
  if (!channel.ok()) {
    std::cerr << channel.status().message() << "\n";
    return kExitWriteFailed;
  }
  const std::string_view arg = argc > 1 ? argv[1] : "";
  if (argc > 2 || (argc == 2 && arg != "--describe" && arg != "--help" && arg != "-h" &&
                    arg != "--serve")) {
    std::cerr << Usage(spec);
    return kExitUsage;
  }
  if (arg == "--help" || arg == "-h")
    return channel->WriteLine(Usage(spec)).ok() ? kExitOk : kExitWriteFailed;
  if (arg == "--describe") return PrintDescription(*channel, spec);
  if (arg == "--serve") {
    if (!spec.serve) {
      std::cerr << "bundlegate-check-" << spec.kind << ": this plugin does not serve\n";
      return kExitUsage;
    }
    return ServeRequests(spec, channel->fd());
  }
  const PluginResult result = RunCheck(spec);
  const Status written = channel->Write(result);
  if (!written.ok()) std::cerr << written.message() << "\n";
  return written.ok() ? kExitOk : kExitWriteFailed;
}

}  // namespace bg::sdk

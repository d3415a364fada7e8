// bg_model_scan [--repeat N] FILE...     the static model scan (plugins/modelscan/model_scan.h)
// bg_model_scan --pickle [--checkpoint] FILE...   one pickle each (pickle_scanner.h)
//
// Prints one JSON line per file; exit status 0 when every file is clean (a clean TorchScript
// archive; a pickle without problems), 1 otherwise, 2 on a usage error. For tests in other
// languages (tests/python/test_pickle_scanner.py), for measuring (--repeat: the median scan
// time of N scans), and for looking at an archive by hand.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "plugins/modelscan/model_scan.h"
#include "plugins/modelscan/pickle_scanner.h"

namespace {

using bg::sdk::Json;

Json PickleReport(const std::string& bytes, bool checkpoint) {
  using namespace bg::modelscan;
  const PickleScan s = ScanPickle(bytes, checkpoint ? PickleAllowlist::Checkpoint()
                                                    : PickleAllowlist::TorchScript());
  Json globals = Json::array(), storages = Json::array();
  for (const auto& g : s.globals) {
    globals.push_back({{"module", g.module}, {"name", g.name}, {"allowed", g.allowed}});
  }
  for (const auto& st : s.storages) storages.push_back({{"key", st.key}, {"numel", st.numel}});
  return {{"ok", s.ok()},           {"problems", s.problems}, {"globals", globals},
          {"storages", storages},   {"protocol", s.protocol}, {"opcodes", s.opcodes},
          {"disallowed_global", s.disallowed_global}};
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 1, status = 0;
  bool pickle = false, checkpoint = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
      continue;
    }
    if (arg == "--pickle" || arg == "--checkpoint") {
      (arg == "--pickle" ? pickle : checkpoint) = true;
      continue;
    }
    std::ifstream in(arg, std::ios::binary);
    if (!in) {
      std::cerr << arg << ": cannot open\n";
      return 2;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (pickle) {
      Json j = PickleReport(bytes, checkpoint);
      j["file"] = arg;
      std::cout << bg::sdk::DumpJson(j) << "\n";
      if (!j["ok"].get<bool>()) status = 1;
      continue;
    }
    std::vector<double> ms;
    bg::modelscan::ScanReport report;
    for (int r = 0; r < repeat; ++r) {
      report = bg::modelscan::ScanModel(bytes);
      ms.push_back(report.ms);
    }
    std::sort(ms.begin(), ms.end());
    Json j = report.ToJson();
    j["file"] = arg;
    if (repeat > 1) j["median_scan_ms"] = ms[ms.size() / 2];
    std::cout << bg::sdk::DumpJson(j) << "\n";
    if (report.verdict != bg::modelscan::ScanVerdict::kClean) status = 1;
  }
  return status;
}

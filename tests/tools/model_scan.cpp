// bg_model_scan FILE... : runs the static model scan (plugins/modelscan/model_scan.h) on each
// file and prints its report as one JSON line; exit status 0 when every file is clean, 1
// otherwise. For tests in other languages, for measuring, and for looking at an archive.
//   --repeat N   scan each file N times and report the median scan time
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "plugins/modelscan/model_scan.h"

int main(int argc, char** argv) {
  int repeat = 1, status = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
      continue;
    }
    std::ifstream in(arg, std::ios::binary);
    if (!in) {
      std::cerr << arg << ": cannot open\n";
      return 2;
    }
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<double> ms;
    bg::modelscan::ScanReport report;
    for (int r = 0; r < repeat; ++r) {
      report = bg::modelscan::ScanModel(bytes);
      ms.push_back(report.ms);
    }
    std::sort(ms.begin(), ms.end());
    auto j = report.ToJson();
    j["file"] = arg;
    if (repeat > 1) j["median_scan_ms"] = ms[ms.size() / 2];
    std::cout << bg::sdk::DumpJson(j) << "\n";
    if (report.verdict != bg::modelscan::ScanVerdict::kClean) status = 1;
  }
  return status;
}

// A model file: the strict ZIP reader (every entry read back and checked), then the whole
// static scan (layout, pickles, code, storages).
#include "plugins/modelscan/model_scan.h"
#include "plugins/modelscan/zip_archive.h"
#include "tests/fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bg::modelscan;
  const std::string_view bytes = bg::fuzz::Text(data, size);
  ZipLimits limits;  // small, so that the fuzzer spends its time on structure, not on zeros
  limits.max_inflated_entry = 8u << 20;
  limits.max_inflated_total = 32u << 20;
  ZipProblem problem;
  if (auto zip = ZipArchive::Open(bytes, limits, &problem)) {
    std::uint64_t end = 0;
    for (const auto& e : zip->entries()) {
      bg::fuzz::Require(e.data_offset >= e.header_offset, "data after its header");
      bg::fuzz::Require(e.data_offset + e.compressed_size <= size, "data inside the file");
      bg::fuzz::Require(e.header_offset >= end, "entries do not overlap");
      end = e.data_offset + e.compressed_size;
      std::string storage, why;
      std::string_view content;
      if (zip->Read(e, &storage, &content, &why)) {
        bg::fuzz::Require(content.size() == e.size, "read what was declared");
      }
    }
  } else {
    bg::fuzz::Require(!problem.message.empty(), "a refusal says why");
  }
  const ScanReport report = ScanModel(bytes, limits);
  bg::fuzz::Require(report.verdict != ScanVerdict::kUnsafe || !report.findings.empty(),
                    "unsafe names a finding");
  (void)bg::sdk::DumpJson(report.ToJson());
  return 0;
}

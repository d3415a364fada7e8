// ScanModel: the static scan of a model file before anything loads it (SPEC.md unsafe-model).
//
// PyTorch's security policy: loading a TorchScript archive is running its code. So the
// TorchScript plugin hands the model's bytes here first, and calls torch::jit::load on the same
// bytes only when the verdict is kClean. The scan, in order:
//   1. the container (zip_archive.h): every byte accounted for, names safe and unique,
//      sizes and ratios bounded;
//   2. the layout (archive_layout.h): nothing but what a TorchScript archive holds;
//   3. every entry read back: inflated to its exact size, CRC-32 checked; each pickle
//      (data.pkl, constants.pkl, bytecode.pkl, code/*.debug_pkl, and any extra/ file that is
//      a pickle) walked without executing (pickle_scanner.h) against the allowlist
//      (pickle_allowlist.h); each code/*.py scanned for file-touching operators
//      (code_scanner.h); the version entry a small number;
//   4. the storages: every data/N and constants/N named by a persistent id of its pickle,
//      every one that a pickle names present, and exactly as large as its tensors need
//      (numel x element size): an unused or oversized storage is hidden content, an
//      undersized one an out-of-bounds read.
// A torch.save file (a ZIP checkpoint, or the legacy format of several pickles in a row) is
// scanned the same way (its pickles against the checkpoint allowlist) and then called
// kNotTorchScript. Not a ZIP, or a ZIP cut short, is kUnreadable.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "plugins/modelscan/zip_archive.h"
#include "plugins/sdk/json.h"

namespace bg::modelscan {

enum class ScanVerdict {
  kClean,           // a TorchScript archive with nothing else in it
  kNotTorchScript,  // a torch.save checkpoint or another ZIP: safe to refuse as such
  kUnreadable,      // empty, not a ZIP, truncated
  kUnsafe,          // anything the scan cannot vouch for: unsafe-model
};

const char* VerdictName(ScanVerdict verdict);

struct ScanFinding {
  std::string entry;  // the archive entry ("" for the container)
  std::string message;
};

struct ScanReport {
  ScanVerdict verdict = ScanVerdict::kUnsafe;
  std::string summary;  // one line: the first finding, or what the file is
  std::vector<ScanFinding> findings;
  std::string format;  // "torchscript", "torch.save", "torch.save (legacy)", "zip", ...
  std::size_t entries = 0;
  std::size_t pickles = 0;
  std::size_t opcodes = 0;
  std::uint64_t bytes = 0;
  std::uint64_t inflated_bytes = 0;
  std::vector<std::string> globals;  // every distinct global the pickles name
  double ms = 0;

  // For the plugin's details.scan.
  sdk::Json ToJson() const;
};

ScanReport ScanModel(std::string_view bytes, const ZipLimits& limits = {});

}  // namespace bg::modelscan

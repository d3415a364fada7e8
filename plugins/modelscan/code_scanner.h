// ScanTorchScriptCode: looks through an archive's TorchScript source (code/*.py) for the
// operators that reach the filesystem.
//
// The pickles are not the only code in an archive: LibTorch compiles code/ at load and runs a
// class's __setstate__ while it unpickles, so a model whose __setstate__ calls
// torch.from_file("/path", True, n) creates that file inside torch::jit::load, before any
// check has looked at an output (tested). TorchScript has no open() or os; among LibTorch's
// operators only aten::from_file (maps, and with shared=True creates, a file) and aten::save
// (writes one) take a path. Either, called as torch.X, torch.ops.aten.X or aten.X, is reported.
// String literals and comments are skipped, so a docstring that mentions them is not.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bg::modelscan {

// One message per use: "line 12: torch.from_file (reads or creates a file)".
std::vector<std::string> ScanTorchScriptCode(std::string_view source);

}  // namespace bg::modelscan

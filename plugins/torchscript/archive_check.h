// A first look at a model file before LibTorch reads it, for a clear message on the commonest
// broken files: empty, not a ZIP archive at all, or a ZIP cut short (no end-of-central-directory
// record, which a truncated copy loses first). torch.jit.save writes a ZIP archive (or, on
// request, a flatbuffer file, "PTMF" at offset 4, which is left to LibTorch). A file that passes
// may still fail to load (e.g. a torch.save pickle is a ZIP too): LibTorch says why then.
//
// Thread safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace bg::torchscript {

// Why `bytes` cannot be a TorchScript archive; "" when it may be one.
std::string ArchiveProblem(std::string_view bytes);

}  // namespace bg::torchscript

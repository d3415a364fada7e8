#include "plugins/torchscript/archive_check.h"

#include <algorithm>

namespace bg::torchscript {
namespace {

constexpr std::string_view kZipLocalHeader("PK\x03\x04", 4);
constexpr std::string_view kZipEndOfDirectory("PK\x05\x06", 4);
constexpr std::size_t kEndRecordSize = 22;  // without its comment
constexpr std::size_t kMaxZipComment = 65535;

}  // namespace

std::string ArchiveProblem(std::string_view bytes) {
  if (bytes.empty()) return "the file is empty";
  if (bytes.size() >= 8 && bytes.substr(4, 4) == "PTMF") return "";  // flatbuffer: LibTorch's call
  if (bytes.substr(0, 4) != kZipLocalHeader) {
    return "not a ZIP archive (torch.jit.save writes one): not a TorchScript model";
  }
  const std::size_t tail = std::min(bytes.size(), kEndRecordSize + kMaxZipComment);
  if (bytes.substr(bytes.size() - tail).rfind(kZipEndOfDirectory) == std::string_view::npos) {
    return "the ZIP archive has no end-of-central-directory record: the file is truncated";
  }
  return "";
}

}  // namespace bg::torchscript

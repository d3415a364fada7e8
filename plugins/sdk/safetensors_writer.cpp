#include "plugins/sdk/safetensors_writer.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "plugins/sdk/json.h"
#include "plugins/sdk/safetensors.h"

namespace bg::sdk {
namespace {

Status CheckTensors(const std::vector<const NamedTensor*>& sorted) {
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const auto& t = *sorted[i];
    if (!IsValidTensorName(t.name)) return Status::Error("invalid tensor name '" + t.name + "'");
    if (i > 0 && sorted[i - 1]->name == t.name) {
      return Status::Error("tensor '" + t.name + "' is given twice");
    }
    if (!t.tensor.Consistent()) {
      return Status::Error("tensor '" + t.name + "': " + std::to_string(t.tensor.data.size()) +
                           " bytes do not match shape " + ShapeString(t.tensor.shape));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> SerializeSafetensors(const std::vector<NamedTensor>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  std::vector<const NamedTensor*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const NamedTensor* a, const NamedTensor* b) { return a->name < b->name; });
  BG_SDK_RETURN_IF_ERROR(CheckTensors(sorted));

  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const auto* t : sorted) {
    const std::uint64_t end = offset + t->tensor.data.size();
    header[t->name] = {{"dtype", SafetensorsName(t->tensor.dtype)},
                       {"shape", t->tensor.shape},
                       {"data_offsets", {offset, end}}};
    offset = end;
  }
  std::string text = DumpJson(header);
  text.append((8 - text.size() % 8) % 8, ' ');
  const std::uint64_t header_len = text.size();
  std::string out(8, '\0');
  std::memcpy(out.data(), &header_len, 8);  // little-endian host (see safetensors.h)
  out += text;
  for (const auto* t : sorted) out += t->tensor.data;
  return out;
}

}  // namespace bg::sdk

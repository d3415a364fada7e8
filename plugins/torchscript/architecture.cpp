#include "plugins/torchscript/architecture.h"

#include <map>

#include "plugins/sdk/dtype.h"
#include "plugins/sdk/tensor.h"

namespace bg::torchscript {
namespace {

constexpr std::size_t kMaxListed = 50;  // per list in details
constexpr std::size_t kMaxInSummary = 3;

void Push(std::vector<std::string>& list, std::string item) { list.push_back(std::move(item)); }

sdk::Json Bounded(const std::vector<std::string>& list) {
  sdk::Json j = sdk::Json::array();
  for (std::size_t i = 0; i < list.size() && i < kMaxListed; ++i) j.push_back(list[i]);
  if (list.size() > kMaxListed)
    j.push_back("... and " + std::to_string(list.size() - kMaxListed) + " more");
  return j;
}

std::string SummaryOf(const char* what, const std::vector<std::string>& list) {
  if (list.empty()) return "";
  std::string s = std::to_string(list.size()) + " " + what + " (";
  for (std::size_t i = 0; i < list.size() && i < kMaxInSummary; ++i) s += (i ? ", " : "") + list[i];
  return s + (list.size() > kMaxInSummary ? ", ...)" : ")");
}

void CompareEntry(const SignatureEntry& d, const ModuleTensor& a, ArchitectureDiff& diff) {
  if (d.shape != a.shape) {
    Push(diff.shape,
         d.name + ": " + sdk::ShapeString(a.shape) + ", declared " + sdk::ShapeString(d.shape));
  }
  if (CanonicalDtypeName(d.dtype) != CanonicalDtypeName(a.dtype)) {
    Push(diff.dtype, d.name + ": " + a.dtype + ", declared " + d.dtype);
  }
  if (d.kind != a.kind) Push(diff.kind, d.name + ": " + a.kind + ", declared " + d.kind);
}

}  // namespace

std::string CanonicalDtypeName(const std::string& name) {
  if (auto dtype = sdk::ParseTorchName(name)) return std::string(sdk::TorchName(*dtype));
  if (name == "cfloat") return "complex64";
  if (name == "cdouble") return "complex128";
  return name;
}

bool ArchitectureDiff::empty() const { return count() == 0; }

std::size_t ArchitectureDiff::count() const {
  return missing.size() + extra.size() + shape.size() + dtype.size() + kind.size();
}

sdk::Json ArchitectureDiff::ToJson() const {
  return {{"missing", Bounded(missing)},
          {"extra", Bounded(extra)},
          {"shape", Bounded(shape)},
          {"dtype", Bounded(dtype)},
          {"kind", Bounded(kind)}};
}

std::string ArchitectureDiff::Summary() const {
  std::string s;
  for (const auto& part :
       {SummaryOf("missing", missing), SummaryOf("extra", extra),
        SummaryOf("with another shape", shape), SummaryOf("with another dtype", dtype),
        SummaryOf("of another kind", kind)}) {
    if (!part.empty()) s += (s.empty() ? "" : "; ") + part;
  }
  return s;
}

ArchitectureDiff CompareSignature(const std::vector<SignatureEntry>& declared,
                                  const std::vector<ModuleTensor>& actual) {
  std::map<std::string, const ModuleTensor*> by_name;
  for (const auto& a : actual) by_name.emplace(a.name, &a);
  ArchitectureDiff diff;
  std::map<std::string, bool> seen;
  for (const auto& d : declared) {
    seen[d.name] = true;
    const auto it = by_name.find(d.name);
    if (it == by_name.end()) {
      Push(diff.missing, d.name);
    } else {
      CompareEntry(d, *it->second, diff);
    }
  }
  for (const auto& a : actual) {
    if (!seen.count(a.name)) Push(diff.extra, a.name);
  }
  return diff;
}

}  // namespace bg::torchscript

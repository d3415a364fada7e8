#include "plugins/torchscript/parity_data.h"

#include <map>

namespace bg::torchscript {
namespace {

using sdk::Status;

struct SplitName {
  std::string case_name;
  std::string key;
};

sdk::Result<SplitName> Split(const std::string& tensor, const char* file) {
  const auto dot = tensor.find('.');
  if (dot == std::string::npos || dot + 1 == tensor.size()) {
    return Status::Error(std::string(file) + ": tensor '" + tensor +
                         "' is not named <case>.<index or key>");
  }
  SplitName s{tensor.substr(0, dot), tensor.substr(dot + 1)};
  if (!IsValidCaseName(s.case_name)) {
    return Status::Error(std::string(file) + ": tensor '" + tensor + "': case name '" +
                         s.case_name + "' does not match [A-Za-z0-9_-]+");
  }
  return s;
}

sdk::Result<std::size_t> InputIndex(const std::string& tensor, const std::string& key) {
  bool digits = !key.empty() && key.size() <= 4 && (key == "0" || key[0] != '0');
  for (char c : key) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    return Status::Error("inputs: tensor '" + tensor + "': the argument index '" + key +
                         "' is not a number below 10000 without leading zeros");
  }
  return static_cast<std::size_t>(std::stoul(key));
}

using InputMap = std::map<std::string, std::map<std::size_t, sdk::HostTensor>>;

sdk::Result<InputMap> GroupInputs(const sdk::SafetensorsFile& file) {
  InputMap cases;
  for (const auto& e : file.tensors()) {
    BG_SDK_ASSIGN_OR_RETURN(auto split, Split(e.name, "inputs"));
    BG_SDK_ASSIGN_OR_RETURN(auto index, InputIndex(e.name, split.key));
    cases[split.case_name][index] = file.Tensor(e);
  }
  return cases;
}

sdk::Result<std::vector<sdk::HostTensor>> Positional(const std::string& name,
                                                     std::map<std::size_t, sdk::HostTensor> args) {
  std::vector<sdk::HostTensor> out;
  for (auto& [index, tensor] : args) {
    if (index != out.size()) {
      return Status::Error("inputs: case '" + name + "' lacks argument " +
                           std::to_string(out.size()) + " (tensor '" + name + "." +
                           std::to_string(out.size()) + "')");
    }
    out.push_back(std::move(tensor));
  }
  return out;
}

}  // namespace

bool IsValidCaseName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

const NamedOutput* FindOutput(const Outputs& outputs, const std::string& key) {
  for (const auto& o : outputs) {
    if (o.key == key) return &o;
  }
  return nullptr;
}

sdk::Result<std::vector<ParityCase>> BuildCases(const sdk::SafetensorsFile& inputs,
                                                const sdk::SafetensorsFile& expected) {
  BG_SDK_ASSIGN_OR_RETURN(InputMap grouped, GroupInputs(inputs));
  std::map<std::string, Outputs> outputs;
  for (const auto& e : expected.tensors()) {
    BG_SDK_ASSIGN_OR_RETURN(auto split, Split(e.name, "expected"));
    if (!grouped.count(split.case_name)) {
      return Status::Error("expected: tensor '" + e.name + "' belongs to case '" + split.case_name +
                           "', which has no inputs");
    }
    outputs[split.case_name].push_back({split.key, expected.Tensor(e)});
  }
  std::vector<ParityCase> cases;
  for (auto& [name, args] : grouped) {
    if (!outputs.count(name)) {
      return Status::Error("expected: case '" + name + "' has no expected output ('" + name +
                           ".0', ...)");
    }
    BG_SDK_ASSIGN_OR_RETURN(auto positional, Positional(name, std::move(args)));
    cases.push_back({name, std::move(positional), std::move(outputs[name])});
  }
  if (cases.empty()) return Status::Error("inputs: no parity case (no tensor named <case>.0)");
  return cases;
}

}  // namespace bg::torchscript

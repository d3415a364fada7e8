#include "plugins/sdk/config_reader.h"

#include <cmath>

namespace bg::sdk {
namespace {

std::string JoinChoices(std::initializer_list<const char*> choices) {
  std::string s;
  for (const char* c : choices) s += (s.empty() ? "\"" : ", \"") + std::string(c) + "\"";
  return s;
}

bool IsChoice(const std::string& v, std::initializer_list<const char*> choices) {
  for (const char* c : choices) {
    if (v == c) return true;
  }
  return false;
}

}  // namespace

ConfigReader::ConfigReader(const Json& config, std::string prefix)
    : config_(config), prefix_(std::move(prefix)) {}

const Json* ConfigReader::Find(const std::string& key) {
  known_.insert(key);
  if (!config_.is_object()) return nullptr;
  const auto it = config_.find(key);
  return it == config_.end() ? nullptr : &*it;
}

void ConfigReader::Fail(const std::string& key, const std::string& problem) {
  problems_.push_back(Path(key) + ": " + problem);
}

std::optional<bool> ConfigReader::Bool(const std::string& key) {
  const Json* v = Find(key);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(key, "must be true or false");
    return std::nullopt;
  }
  return v->get<bool>();
}

std::optional<std::int64_t> ConfigReader::Int(const std::string& key, std::int64_t min,
                                              std::int64_t max) {
  const Json* v = Find(key);
  if (!v) return std::nullopt;
  bool in_range = false;
  if (v->is_number_unsigned()) {
    in_range = max >= 0 && v->get<std::uint64_t>() <= static_cast<std::uint64_t>(max) &&
               (min <= 0 || v->get<std::uint64_t>() >= static_cast<std::uint64_t>(min));
  } else if (v->is_number_integer()) {
    in_range = v->get<std::int64_t>() >= min && v->get<std::int64_t>() <= max;
  }
  if (!in_range) {
    Fail(key, "must be an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]");
    return std::nullopt;
  }
  return v->get<std::int64_t>();
}

std::optional<double> ConfigReader::Number(const std::string& key, double min, double max) {
  const Json* v = Find(key);
  if (!v) return std::nullopt;
  if (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < min ||
      v->get<double>() > max) {
    Fail(key, "must be a number in [" + DumpJson(min) + ", " + DumpJson(max) + "]");
    return std::nullopt;
  }
  return v->get<double>();
}

std::optional<std::string> ConfigReader::Choice(const std::string& key,
                                                std::initializer_list<const char*> choices) {
  const Json* v = Find(key);
  if (!v) return std::nullopt;
  if (!v->is_string() || !IsChoice(v->get<std::string>(), choices)) {
    Fail(key, "must be one of " + JoinChoices(choices));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::optional<std::vector<std::string>> ConfigReader::ChoiceList(
    const std::string& key, std::initializer_list<const char*> choices) {
  const Json* v = Find(key);
  if (!v) return std::nullopt;
  std::vector<std::string> out;
  bool ok = v->is_array() && !v->empty();
  for (const auto& item : ok ? *v : Json::array()) {
    ok = ok && item.is_string() && IsChoice(item.get<std::string>(), choices);
    if (ok) {
      for (const auto& seen : out) ok = ok && seen != item.get<std::string>();
      out.push_back(item.get<std::string>());
    }
  }
  if (!ok) {
    Fail(key, "must be a non-empty list of distinct values from " + JoinChoices(choices));
    return std::nullopt;
  }
  return out;
}

const Json* ConfigReader::Table(const std::string& key) {
  const Json* v = Find(key);
  if (v && !v->is_object()) {
    Fail(key, "must be a table");
    return nullptr;
  }
  return v;
}

Status ConfigReader::Finish() const {
  std::vector<std::string> all = problems_;
  if (!config_.is_object()) {
    all.push_back(prefix_ + ": must be a table");
  } else {
    for (const auto& [key, unused] : config_.items()) {
      if (!known_.count(key)) all.push_back(Path(key) + ": unknown key");
    }
  }
  if (all.empty()) return Status::Ok();
  std::string message;
  for (const auto& p : all) message += (message.empty() ? "" : "; ") + p;
  return Status::Error(message);
}

}  // namespace bg::sdk

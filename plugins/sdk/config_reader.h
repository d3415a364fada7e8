// ConfigReader: typed, strict access to a plugin's "config" object (its [[checks]] table).
//
// As in the agent's own config, an unknown key is an error, not ignored: a typo must not
// silently fall back to a default. Each accessor marks its key as known and records a problem
// (wrong type, out of range, not one of the choices) instead of failing at once, so that
// Finish() reports every problem in one message: "config.latency_runs: must be an integer in
// [1, 10000]; config.devise: unknown key".
//
// Thread safety: one reader per thread.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plugins/sdk/json.h"
#include "plugins/sdk/status.h"

namespace bg::sdk {

class ConfigReader {
 public:
  // `config` must outlive the reader. A non-object is reported by Finish().
  explicit ConfigReader(const Json& config, std::string prefix = "config");

  std::optional<bool> Bool(const std::string& key);
  std::optional<std::int64_t> Int(const std::string& key, std::int64_t min, std::int64_t max);
  std::optional<double> Number(const std::string& key, double min, double max);
  // A string that must be one of `choices`.
  std::optional<std::string> Choice(const std::string& key,
                                    std::initializer_list<const char*> choices);
  // An array of strings, each one of `choices`, without repeats.
  std::optional<std::vector<std::string>> ChoiceList(const std::string& key,
                                                     std::initializer_list<const char*> choices);
  // The raw value of a table-valued key (nullptr when absent); the caller reads it with its
  // own ConfigReader(value, Path(key)).
  const Json* Table(const std::string& key);
  // "config.<key>", for messages.
  std::string Path(const std::string& key) const { return prefix_ + "." + key; }
  // Records a problem found by the caller.
  void Fail(const std::string& key, const std::string& problem);
  // Ok, or every problem found, including unknown keys.
  Status Finish() const;

 private:
  const Json* Find(const std::string& key);
  const Json& config_;
  std::string prefix_;
  std::set<std::string> known_;
  std::vector<std::string> problems_;
};

}  // namespace bg::sdk

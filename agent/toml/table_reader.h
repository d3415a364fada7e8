// TableReader: strict, typed reading of one table of a TomlDocument.
//
// Each getter records the key as known; RejectUnknownKeys() then reports every key nobody asked
// for (the config and the manifest both treat unknown keys as errors). Problems are collected in
// an ErrorList rather than returned one by one, so that a user sees every mistake of a file at
// once, each as "<file>:<line>: <dotted.key>: <why>".
//
// Thread safety: none needed; readers are short-lived and used by one thread.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/json.h"
#include "agent/core/status.h"
#include "agent/toml/toml_document.h"

namespace bg {

class ErrorList {
 public:
  explicit ErrorList(std::string source) : source_(std::move(source)) {}
  void Add(int line, std::string_view key, std::string_view why);
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  const std::string& source() const { return source_; }
  // Ok when empty; otherwise every message, joined by "; ", with `reason`.
  Status ToStatus(Reason reason = Reason::kNone) const;

 private:
  std::string source_;
  std::vector<std::string> messages_;
};

enum class Presence { kOptional, kRequired };

class TableReader {
 public:
  // `pointer`: the JSON pointer of the table inside `doc` ("" for the root).
  // `name`: its dotted name in messages ("" for the root, "model", "checks[2]").
  TableReader(const TomlDocument& doc, std::string pointer, std::string name, ErrorList* errors);

  bool Has(std::string_view key) const;
  std::optional<std::string> String(std::string_view key, Presence presence);
  std::optional<std::int64_t> Int(std::string_view key, Presence presence,
                                  std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                  std::int64_t max = std::numeric_limits<std::int64_t>::max());
  // An integer or a float.
  std::optional<double> Number(std::string_view key, Presence presence);
  std::optional<bool> Bool(std::string_view key, Presence presence);
  // An offset date-time (with "Z" or "+hh:mm"), as its RFC 3339 text.
  std::optional<std::string> OffsetDateTime(std::string_view key, Presence presence);
  std::optional<std::vector<std::string>> StringArray(std::string_view key, Presence presence);
  std::optional<std::vector<std::int64_t>> IntArray(std::string_view key, Presence presence);
  std::optional<TableReader> Table(std::string_view key, Presence presence);
  // An array of tables ([[key]]); empty when absent and optional.
  std::vector<TableReader> TableArray(std::string_view key, Presence presence);
  // The raw JSON of a key of any type (marks it known); nullptr when absent.
  const Json* Raw(std::string_view key);
  // The keys of this table, in file order.
  std::vector<std::string> Keys() const;

  // Reports, for each key not read through this reader, "unknown key".
  void RejectUnknownKeys();
  // Records a problem with `key` (its line is looked up), e.g. after a semantic check.
  void Fail(std::string_view key, std::string_view why);

  const std::string& name() const { return name_; }
  const std::string& pointer() const { return pointer_; }
  int line() const;
  ErrorList* errors() const { return errors_; }

 private:
  const Json* Find(std::string_view key, Presence presence);
  bool ExpectType(std::string_view key, TomlType want);
  std::string ChildPointer(std::string_view key) const;
  std::string ChildName(std::string_view key) const;

  const TomlDocument* doc_;
  std::string pointer_;
  std::string name_;
  ErrorList* errors_;
  const Json* table_;
  std::set<std::string, std::less<>> used_;
};

}  // namespace bg

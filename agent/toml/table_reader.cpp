#include "agent/toml/table_reader.h"

#include <cmath>

namespace bg {

void ErrorList::Add(int line, std::string_view key, std::string_view why) {
  std::string m = source_;
  if (line > 0) m += ":" + std::to_string(line);
  m += ": ";
  if (!key.empty()) {
    m += key;
    m += ": ";
  }
  m += why;
  messages_.push_back(std::move(m));
}

Status ErrorList::ToStatus(Reason reason) const {
  if (messages_.empty()) return Status::Ok();
  std::string joined;
  for (const auto& m : messages_) {
    if (!joined.empty()) joined += "; ";
    joined += m;
  }
  return reason == Reason::kNone ? Status::Error(joined) : Status::Reject(reason, joined);
}

TableReader::TableReader(const TomlDocument& doc, std::string pointer, std::string name,
                         ErrorList* errors)
    : doc_(&doc), pointer_(std::move(pointer)), name_(std::move(name)), errors_(errors) {
  static const Json kEmpty = Json::object();
  table_ = &kEmpty;
  if (pointer_.empty()) {
    table_ = &doc.root;
  } else {
    const Json& found = doc.root.at(Json::json_pointer(pointer_));
    if (found.is_object()) table_ = &found;
  }
}

std::string TableReader::ChildPointer(std::string_view key) const {
  return pointer_ + "/" + JsonPointerEscape(key);
}

std::string TableReader::ChildName(std::string_view key) const {
  return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
}

int TableReader::line() const { return doc_->LineOf(pointer_); }

bool TableReader::Has(std::string_view key) const { return table_->contains(key); }

std::vector<std::string> TableReader::Keys() const {
  std::vector<std::string> keys;
  for (const auto& item : table_->items()) keys.push_back(item.key());
  return keys;
}

void TableReader::Fail(std::string_view key, std::string_view why) {
  const int at = key.empty() ? line() : doc_->LineOf(ChildPointer(key));
  errors_->Add(at != 0 ? at : line(), key.empty() ? name_ : ChildName(key), why);
}

const Json* TableReader::Find(std::string_view key, Presence presence) {
  used_.emplace(key);
  const auto it = table_->find(key);
  if (it == table_->end()) {
    if (presence == Presence::kRequired) {
      errors_->Add(line(), ChildName(key),
                   name_.empty() ? "missing (required)" : "missing in [" + name_ + "] (required)");
    }
    return nullptr;
  }
  return &*it;
}

bool TableReader::ExpectType(std::string_view key, TomlType want) {
  const auto* info = doc_->Info(ChildPointer(key));
  const TomlType got = info ? info->type : TomlType::kTable;
  if (got == want) return true;
  Fail(key, "expected " + std::string(TomlTypeName(want)) + ", found " +
                std::string(TomlTypeName(got)));
  return false;
}

std::optional<std::string> TableReader::String(std::string_view key, Presence presence) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kString)) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::int64_t> TableReader::Int(std::string_view key, Presence presence,
                                             std::int64_t min, std::int64_t max) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kInteger)) return std::nullopt;
  const auto value = v->get<std::int64_t>();
  if (value < min || value > max) {
    std::string range = "must be ";
    if (max == std::numeric_limits<std::int64_t>::max()) {
      range += ">= " + std::to_string(min);
    } else {
      range += "between " + std::to_string(min) + " and " + std::to_string(max);
    }
    Fail(key, range + ", found " + std::to_string(value));
    return std::nullopt;
  }
  return value;
}

std::optional<double> TableReader::Number(std::string_view key, Presence presence) {
  const Json* v = Find(key, presence);
  if (!v) return std::nullopt;
  const auto* info = doc_->Info(ChildPointer(key));
  if (!info || (info->type != TomlType::kInteger && info->type != TomlType::kFloat)) {
    Fail(key, "expected a number, found " +
                  std::string(info ? TomlTypeName(info->type) : "nothing"));
    return std::nullopt;
  }
  const double d = v->get<double>();
  if (!std::isfinite(d)) {
    Fail(key, "must be a finite number");
    return std::nullopt;
  }
  return d;
}

std::optional<bool> TableReader::Bool(std::string_view key, Presence presence) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kBoolean)) return std::nullopt;
  return v->get<bool>();
}

std::optional<std::string> TableReader::OffsetDateTime(std::string_view key, Presence presence) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kOffsetDateTime)) return std::nullopt;
  return v->get<std::string>();
}

std::optional<std::vector<std::string>> TableReader::StringArray(std::string_view key,
                                                                 Presence presence) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kArray)) return std::nullopt;
  std::vector<std::string> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    if (!(*v)[i].is_string()) {
      Fail(key, "item " + std::to_string(i) + ": expected a string");
      return std::nullopt;
    }
    out.push_back((*v)[i].get<std::string>());
  }
  return out;
}

std::optional<std::vector<std::int64_t>> TableReader::IntArray(std::string_view key,
                                                               Presence presence) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kArray)) return std::nullopt;
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto* info = doc_->Info(ChildPointer(key) + "/" + std::to_string(i));
    if (!info || info->type != TomlType::kInteger) {
      Fail(key, "item " + std::to_string(i) + ": expected an integer");
      return std::nullopt;
    }
    out.push_back((*v)[i].get<std::int64_t>());
  }
  return out;
}

std::optional<TableReader> TableReader::Table(std::string_view key, Presence presence) {
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kTable)) return std::nullopt;
  return TableReader(*doc_, ChildPointer(key), ChildName(key), errors_);
}

std::vector<TableReader> TableReader::TableArray(std::string_view key, Presence presence) {
  std::vector<TableReader> out;
  const Json* v = Find(key, presence);
  if (!v || !ExpectType(key, TomlType::kArray)) return out;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const std::string child = ChildPointer(key) + "/" + std::to_string(i);
    if (!(*v)[i].is_object()) {
      Fail(key, "item " + std::to_string(i) + ": expected a table");
      continue;
    }
    out.emplace_back(*doc_, child, ChildName(key) + "[" + std::to_string(i) + "]", errors_);
  }
  return out;
}

const Json* TableReader::Raw(std::string_view key) { return Find(key, Presence::kOptional); }

void TableReader::RejectUnknownKeys() {
  for (const auto& item : table_->items()) {
    if (used_.find(item.key()) == used_.end()) Fail(item.key(), "unknown key");
  }
}

}  // namespace bg

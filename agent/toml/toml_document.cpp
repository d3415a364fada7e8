#include "agent/toml/toml_document.h"

#include <cstdio>
#include <sstream>

#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "agent/toml/toml_depth.h"

namespace bg {
namespace {

std::string TwoDigits(int v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d", v);
  return buf;
}

std::string FormatDate(const toml::date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(d.year),
                static_cast<int>(d.month), static_cast<int>(d.day));
  return buf;
}

std::string FormatTime(const toml::time& t) {
  std::string out = TwoDigits(t.hour) + ":" + TwoDigits(t.minute) + ":" + TwoDigits(t.second);
  if (t.nanosecond != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, ".%09u", static_cast<unsigned>(t.nanosecond));
    std::string frac(buf);
    while (frac.back() == '0') frac.pop_back();
    out += frac;
  }
  return out;
}

std::string FormatDateTime(const toml::date_time& dt) {
  std::string out = FormatDate(dt.date) + "T" + FormatTime(dt.time);
  if (dt.offset) {
    const int minutes = dt.offset->minutes;
    if (minutes == 0) {
      out += "Z";
    } else {
      const int a = minutes < 0 ? -minutes : minutes;
      out += (minutes < 0 ? "-" : "+") + TwoDigits(a / 60) + ":" + TwoDigits(a % 60);
    }
  }
  return out;
}

class Converter {
 public:
  explicit Converter(TomlDocument& doc) : doc_(doc) {}

  Json Convert(const toml::node& node, const std::string& pointer) {
    TomlNodeInfo info;
    info.line = static_cast<int>(node.source().begin.line);
    Json out;
    if (const auto* table = node.as_table()) {
      info.type = TomlType::kTable;
      out = Json::object();
      for (const auto& [key, child] : *table) {
        const std::string k(key.str());
        out[k] = Convert(child, pointer + "/" + JsonPointerEscape(k));
        // A key's own position is more useful than its value's for a multi-line table.
        if (key.source().begin.line != 0) {
          doc_.nodes[pointer + "/" + JsonPointerEscape(k)].line =
              static_cast<int>(key.source().begin.line);
        }
      }
    } else if (const auto* array = node.as_array()) {
      info.type = TomlType::kArray;
      out = Json::array();
      std::size_t i = 0;
      for (const auto& child : *array) {
        out.push_back(Convert(child, pointer + "/" + std::to_string(i++)));
      }
    } else if (const auto* s = node.as_string()) {
      info.type = TomlType::kString;
      out = s->get();
    } else if (const auto* i = node.as_integer()) {
      info.type = TomlType::kInteger;
      out = i->get();
    } else if (const auto* f = node.as_floating_point()) {
      info.type = TomlType::kFloat;
      out = f->get();
    } else if (const auto* b = node.as_boolean()) {
      info.type = TomlType::kBoolean;
      out = b->get();
    } else if (const auto* d = node.as_date()) {
      info.type = TomlType::kDate;
      out = FormatDate(d->get());
    } else if (const auto* t = node.as_time()) {
      info.type = TomlType::kTime;
      out = FormatTime(t->get());
    } else if (const auto* dt = node.as_date_time()) {
      info.type = dt->get().offset ? TomlType::kOffsetDateTime : TomlType::kLocalDateTime;
      out = FormatDateTime(dt->get());
    }
    auto& slot = doc_.nodes[pointer];
    const int key_line = slot.line;
    slot = info;
    if (key_line != 0) slot.line = key_line;
    return out;
  }

 private:
  TomlDocument& doc_;
};

}  // namespace

std::string_view TomlTypeName(TomlType type) {
  switch (type) {
    case TomlType::kTable: return "table";
    case TomlType::kArray: return "array";
    case TomlType::kString: return "string";
    case TomlType::kInteger: return "integer";
    case TomlType::kFloat: return "float";
    case TomlType::kBoolean: return "boolean";
    case TomlType::kDate: return "date";
    case TomlType::kTime: return "time";
    case TomlType::kLocalDateTime: return "local date-time";
    case TomlType::kOffsetDateTime: return "date-time";
  }
  return "unknown";
}

const TomlNodeInfo* TomlDocument::Info(const std::string& pointer) const {
  const auto it = nodes.find(pointer);
  return it == nodes.end() ? nullptr : &it->second;
}

int TomlDocument::LineOf(const std::string& pointer) const {
  const auto* info = Info(pointer);
  return info ? info->line : 0;
}

std::string TomlLibraryVersion() {
  return std::to_string(TOML_LIB_MAJOR) + "." + std::to_string(TOML_LIB_MINOR) + "." +
         std::to_string(TOML_LIB_PATCH);
}

std::string JsonPointerEscape(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

Result<TomlDocument> ParseToml(std::string_view text, std::string source) {
  TomlDocument doc;
  doc.source = std::move(source);
  if (const TomlDepth depth = TomlNestingDepth(text, kMaxTomlDepth); depth.line != 0) {
    return Status::Error(doc.source + ":" + std::to_string(depth.line) +
                         ": nested more than " + std::to_string(kMaxTomlDepth) +
                         " levels deep (tables, dotted keys and inline arrays and tables)");
  }
  try {
    toml::table table = toml::parse(text, doc.source);
    Converter converter(doc);
    doc.root = converter.Convert(table, "");
    doc.nodes[""].line = 1;
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << doc.source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return Status::Error(msg.str());
  }
  return doc;
}

}  // namespace bg

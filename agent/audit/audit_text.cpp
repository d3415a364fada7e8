#include "agent/audit/audit_text.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace bg {
namespace {

// Shown in their own places, or not at all.
constexpr std::array<std::string_view, 13> kPlacedKeys = {
    "seq",  "time", "event",       "prev",    "name",    "version", "reason",
    "path", "where", "destination", "message", "summary", "checks"};
constexpr std::array<const char*, 3> kWhereKeys = {"path", "where", "destination"};

std::string StringField(const Json& record, const char* key) {
  const auto it = record.find(key);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool IsLongHex(const std::string& s) {
  return s.size() >= 40 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string ScalarText(const Json& value) {
  if (!value.is_string()) return DumpJson(value);
  const std::string s = value.get<std::string>();
  if (IsLongHex(s)) return s.substr(0, 12);
  const bool plain = !s.empty() && s.find_first_of(" \t\"=") == std::string::npos;
  return plain ? s : DumpJson(value);
}

std::string Head(const Json& record) {
  std::string seq = "?";
  if (const auto it = record.find("seq"); it != record.end()) seq = DumpJson(*it);
  std::string event = StringField(record, "event");
  event.resize(std::max<std::size_t>(event.size(), 11), ' ');
  return StringField(record, "time") + "  #" + seq + "  " + event;
}

std::string Bundle(const Json& record) {
  const std::string name = StringField(record, "name");
  const std::string version = StringField(record, "version");
  if (name.empty()) return version.empty() ? "" : "version " + version;
  return version.empty() ? name : name + "@" + version;
}

std::string Where(const Json& record) {
  for (const char* key : kWhereKeys) {
    const std::string where = StringField(record, key);
    if (!where.empty()) return "-> " + where;
  }
  return "";
}

// "a,b,c" for an array of scalars; "[3]" for one of objects or arrays.
std::string ArrayText(const Json& array) {
  std::string out;
  for (const Json& item : array) {
    if (item.is_structured()) return "[" + std::to_string(array.size()) + "]";
    out += (out.empty() ? "" : ",") + ScalarText(item);
  }
  return out;
}

std::string OtherFields(const Json& record) {
  std::string out;
  for (const auto& [key, value] : record.items()) {
    if (value.is_object() || value.is_null()) continue;
    if (std::find(kPlacedKeys.begin(), kPlacedKeys.end(), key) != kPlacedKeys.end()) continue;
    const std::string text = value.is_array() ? ArrayText(value) : ScalarText(value);
    out += (out.empty() ? "" : "  ") + key + "=" + text;
  }
  return out;
}

// "checks: 5 pass; parity fail: 3 outputs differ" for check results, "checks=a,b" for names.
std::string Checks(const Json& record) {
  const auto it = record.find("checks");
  if (it == record.end() || !it->is_array() || it->empty()) return "";
  if (!it->front().is_object()) return "checks=" + ArrayText(*it);
  std::size_t passed = 0;
  std::vector<std::string> others;
  for (const Json& check : *it) {
    if (!check.is_object()) continue;
    const std::string status = StringField(check, "status");
    if (status == "pass") {
      ++passed;
    } else {
      others.push_back(StringField(check, "check") + " " + status + ": " +
                       StringField(check, "summary"));
    }
  }
  std::string out = "checks: " + std::to_string(passed) + " pass";
  for (const auto& other : others) out += "; " + other;
  return out;
}

// The record's message, unless it only repeats a failing check's summary shown by Checks().
std::string Message(const Json& record) {
  const std::string message = StringField(record, "message");
  if (message.empty()) return StringField(record, "summary");
  const auto it = record.find("checks");
  if (it != record.end() && it->is_array()) {
    for (const Json& check : *it) {
      if (check.is_object() && StringField(check, "status") != "pass" &&
          StringField(check, "check") + ": " + StringField(check, "summary") == message) {
        return "";
      }
    }
  }
  return message;
}

}  // namespace

std::string FormatAuditRecord(const Json& record) {
  std::string line = Head(record);
  for (const std::string& part : {Bundle(record), StringField(record, "reason"), Where(record),
                                  OtherFields(record), Checks(record), Message(record)}) {
    if (!part.empty()) line += "  " + part;
  }
  return line;
}

}  // namespace bg

#include "agent/lockfile/requirement.h"

#include <cctype>

#include "agent/lockfile/package_name.h"

namespace bg {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A cursor over one requirement, one PEP 508 part per method.
class RequirementParser {
 public:
  explicit RequirementParser(std::string_view text) : s_(Trim(text)) {}

  Result<Requirement> Run() {
    Requirement r;
    BG_RETURN_IF_ERROR(Name(r));
    BG_RETURN_IF_ERROR(Extras(r));
    SkipSpace();
    if (Peek() == '@') {
      ++pos_;
      BG_RETURN_IF_ERROR(Url(r));
    } else {
      BG_RETURN_IF_ERROR(Specifiers(r));
    }
    return Marker(r);
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipSpace() {
    while (pos_ < s_.size() && IsSpace(s_[pos_])) ++pos_;
  }
  Status Error(std::string_view why) const {
    return Status::Error("\"" + std::string(s_) + "\": " + std::string(why));
  }

  Status Name(Requirement& r) {
    while (pos_ < s_.size() && IsNameChar(s_[pos_])) ++pos_;
    r.name = std::string(s_.substr(0, pos_));
    if (!IsValidPackageName(r.name)) return Error("expected a package name");
    return Status::Ok();
  }

  Status Extras(Requirement& r) {
    SkipSpace();
    if (Peek() != '[') return Status::Ok();
    const std::size_t close = s_.find(']', pos_);
    if (close == std::string_view::npos) return Error("unclosed [ of extras");
    std::string_view list = s_.substr(pos_ + 1, close - pos_ - 1);
    pos_ = close + 1;
    while (!Trim(list).empty()) {
      const std::size_t comma = list.find(',');
      const std::string_view extra = Trim(list.substr(0, comma));
      if (!IsValidPackageName(extra)) return Error("bad extra name \"" + std::string(extra) + "\"");
      r.extras.emplace_back(extra);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
    return Status::Ok();
  }

  Status Url(Requirement& r) {
    SkipSpace();
    const std::size_t start = pos_;
    while (pos_ < s_.size() && !IsSpace(s_[pos_])) ++pos_;
    r.url = std::string(s_.substr(start, pos_ - start));
    if (r.url.empty()) return Error("no URL after @");
    return Status::Ok();
  }

  Status Specifiers(Requirement& r) {
    std::string_view text;
    if (Peek() == '(') {
      const std::size_t close = s_.find(')', pos_);
      if (close == std::string_view::npos) return Error("unclosed ( of version specifiers");
      text = s_.substr(pos_ + 1, close - pos_ - 1);
      pos_ = close + 1;
    } else {
      const std::size_t semi = s_.find(';', pos_);
      const std::size_t end = semi == std::string_view::npos ? s_.size() : semi;
      text = s_.substr(pos_, end - pos_);
      pos_ = end;
    }
    r.specifier_text = std::string(Trim(text));
    auto set = Pep440SpecifierSet::Parse(r.specifier_text);
    if (!set.ok()) return Error(set.status().message());
    r.specifiers = std::move(set).value();
    return Status::Ok();
  }

  Result<Requirement> Marker(Requirement& r) {
    SkipSpace();
    if (pos_ == s_.size()) return std::move(r);
    if (Peek() != ';') return Error("unexpected \"" + std::string(s_.substr(pos_)) + "\"");
    r.marker = std::string(Trim(s_.substr(pos_ + 1)));
    if (r.marker.empty()) return Error("empty environment marker after ;");
    return std::move(r);
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

}  // namespace

Result<Requirement> ParseRequirement(std::string_view text) {
  return RequirementParser(text).Run();
}

}  // namespace bg

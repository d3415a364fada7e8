#include "agent/lockfile/pep440_specifier.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

namespace bg {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

using Op = Pep440Specifier::Op;

// Longer operators first, so "===" is not read as "==" followed by "=".
constexpr std::array<std::pair<std::string_view, Op>, 8> kOperators{{
    {"===", Op::kArbitrary},
    {"~=", Op::kCompatible},
    {"==", Op::kEqual},
    {"!=", Op::kNotEqual},
    {"<=", Op::kLessEqual},
    {">=", Op::kGreaterEqual},
    {"<", Op::kLess},
    {">", Op::kGreater},
}};

std::string_view OpText(Op op) {
  for (const auto& [text, o] : kOperators) {
    if (o == op) return text;
  }
  return "?";
}

Status Invalid(std::string_view text, std::string_view why) {
  return Status::Error("\"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

Result<Pep440Specifier> Pep440Specifier::Parse(std::string_view text) {
  const std::string_view clause = Trim(text);
  Pep440Specifier s;
  bool found = false;
  for (const auto& [op_text, op] : kOperators) {
    if (clause.substr(0, op_text.size()) == op_text) {
      s.op_ = op;
      s.operand_ = std::string(Trim(clause.substr(op_text.size())));
      found = true;
      break;
    }
  }
  if (!found) return Invalid(clause, "expected an operator (==, !=, <, <=, >, >=, ~=, ===)");
  if (s.operand_.empty()) return Invalid(clause, "no version after the operator");
  if (s.op_ == Op::kArbitrary) {
    if (std::any_of(s.operand_.begin(), s.operand_.end(),
                    [](unsigned char c) { return std::isspace(c); })) {
      return Invalid(clause, "=== takes one word");
    }
    return s;
  }
  std::string_view operand = s.operand_;
  if (operand.size() >= 2 && operand.substr(operand.size() - 2) == ".*") {
    if (s.op_ != Op::kEqual && s.op_ != Op::kNotEqual) {
      return Invalid(clause, "a wildcard (.*) is allowed only with == and !=");
    }
    s.wildcard_ = true;
    operand.remove_suffix(2);
  }
  auto version = Pep440Version::Parse(operand);
  if (!version) return Invalid(clause, "\"" + std::string(operand) + "\" is not a PEP 440 version");
  s.version_ = std::move(*version);
  const Pep440Version& v = s.version_;
  if (s.wildcard_ && (v.pre() || v.post() || v.dev() || v.has_local())) {
    return Invalid(clause, "a wildcard may only follow a release (==1.2.*)");
  }
  if (v.has_local() && s.op_ != Op::kEqual && s.op_ != Op::kNotEqual) {
    return Invalid(clause, "a local version label is allowed only with == and !=");
  }
  if (s.op_ == Op::kCompatible && v.release().size() < 2) {
    return Invalid(clause, "~= needs at least two release components (~=1.4)");
  }
  return s;
}

bool Pep440Specifier::EqualTo(const Pep440Version& candidate) const {
  return version_.has_local() ? candidate == version_ : candidate.Public() == version_;
}

bool Pep440Specifier::PrefixMatch(const Pep440Version& candidate) const {
  return InPrefixRange(candidate, version_.ReleaseDev0(version_.release()), version_.release());
}

// The exclusive comparisons, as PEP 440 words them and packaging (26.1 and later) implements
// them, each as a plain comparison against the first or last version it admits:
//   <V   everything below V's earliest pre-release (V.dev0) unless V is itself a pre-release,
//        so <2.6 refuses 2.6rc1, while <1.0.post1 refuses only 1.0.post1.devN (not 1.0rc1);
//   >V   for a dev release, from V.dev(N+1) up; for a post-release, from V.post(N+1).dev0 up;
//        otherwise above V and not in V's post family (V+local, V.postN, V.postN+local), so
//        >2.6.0a0 admits 2.6.0+cu124 and 2.6.0.post1 (neither is a post-release of 2.6.0a0).
bool Pep440Specifier::LessThan(const Pep440Version& candidate) const {
  const Pep440Version bound = version_.is_prerelease() ? version_ : version_.WithDev(0);
  return candidate < bound;
}

bool Pep440Specifier::GreaterThan(const Pep440Version& candidate) const {
  const Pep440Version& v = version_;
  if (v.dev()) {
    if (*v.dev() == UINT64_MAX) return candidate.Public() > v;
    return candidate >= v.WithDev(*v.dev() + 1);
  }
  if (v.post()) {
    if (*v.post() == UINT64_MAX) return candidate.Public() > v;
    return candidate >= v.WithPost(*v.post() + 1).WithDev(0);
  }
  if (!(candidate > v)) return false;
  const bool post_family =
      candidate.SameReleaseAndPre(v) && (!candidate.dev() || candidate.post());
  return !post_family;
}

// "==V.*": from V.dev0 up to, not including, the next prefix's dev0 (==1.2.* is
// [1.2.dev0, 1.3.dev0)); "~=V" the same from V up, with V's release minus its last component.
bool Pep440Specifier::InPrefixRange(const Pep440Version& candidate, const Pep440Version& lower,
                                    std::vector<std::uint64_t> prefix) const {
  if (candidate < lower) return false;
  if (prefix.empty() || prefix.back() == UINT64_MAX) return true;
  ++prefix.back();
  return candidate < version_.ReleaseDev0(std::move(prefix));
}

bool Pep440Specifier::Contains(const Pep440Version& candidate) const {
  switch (op_) {
    case Op::kArbitrary:
      return Lower(candidate.ToString()) == Lower(operand_);
    case Op::kEqual:
      return wildcard_ ? PrefixMatch(candidate) : EqualTo(candidate);
    case Op::kNotEqual:
      return wildcard_ ? !PrefixMatch(candidate) : !EqualTo(candidate);
    case Op::kLessEqual:
      return candidate.Public() <= version_;
    case Op::kGreaterEqual:
      return candidate.Public() >= version_;
    case Op::kLess:
      return LessThan(candidate);
    case Op::kGreater:
      return GreaterThan(candidate);
    case Op::kCompatible: {
      std::vector<std::uint64_t> prefix = version_.release();
      prefix.pop_back();
      return InPrefixRange(candidate, version_, std::move(prefix));
    }
  }
  return false;
}

std::string Pep440Specifier::ToString() const {
  std::string out(OpText(op_));
  if (op_ == Op::kArbitrary) return out + operand_;
  out += version_.ToString();
  if (wildcard_) out += ".*";
  return out;
}

Result<Pep440SpecifierSet> Pep440SpecifierSet::Parse(std::string_view text) {
  Pep440SpecifierSet set;
  if (Trim(text).empty()) return set;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view clause = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (Trim(clause).empty()) return Invalid(Trim(text), "empty clause between commas");
    BG_ASSIGN_OR_RETURN(Pep440Specifier s, Pep440Specifier::Parse(clause));
    set.specifiers_.push_back(std::move(s));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

bool Pep440SpecifierSet::Contains(const Pep440Version& candidate) const {
  return std::all_of(specifiers_.begin(), specifiers_.end(),
                     [&](const Pep440Specifier& s) { return s.Contains(candidate); });
}

std::string Pep440SpecifierSet::ToString() const {
  std::string out;
  for (const auto& s : specifiers_) {
    if (!out.empty()) out += ",";
    out += s.ToString();
  }
  return out;
}

}  // namespace bg

// PEP 440 version specifiers ("==2.5.*", "~=1.4.2", "<2.6", ">=1.0,!=1.3.1"): parsing and
// matching, with the rules `packaging` (and so pip) applies:
//   - "==V" / "!=V" ignore a candidate's local label unless V has one (==2.5.1 matches
//     2.5.1+cu121); "==1.2.*" matches by release prefix (local labels ignored).
//   - "<V" excludes pre-releases of V itself (<2.6 does not match 2.6.0rc1, <1.0.post1 does not
//     match 1.0.post1.dev0 but does match 1.0rc1) unless V is one; ">V" excludes V's own
//     post-releases and local versions (>1.0 does not match 1.0.post1 or 1.0+cpu) unless V is
//     a post-release, and only those: >2.6.0a0 matches 2.6.0+cu124 and 2.6.0.post1. This is
//     the reading of packaging 26.1 (pypa/packaging#1140, #1141, #1097); packaging 23 (Debian
//     12's) still excluded everything sharing V's release, which made deny rules fail open.
//   - "<=", ">=" compare the public version; "~=V" is ">=V" and below the next release of V's
//     release minus its last component; "===" compares the normalized text, case-insensitively.
// Matching never filters pre-releases out (packaging's contains(v, prereleases=True)): a
// specifier here answers "is this exact locked version inside the range", which is what a deny
// rule means, so a deny rule matches pre-releases too and fails closed.
//
// Thread safety: value types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/lockfile/pep440_version.h"

namespace bg {

class Pep440Specifier {
 public:
  enum class Op {
    kCompatible,
    kEqual,
    kNotEqual,
    kLessEqual,
    kGreaterEqual,
    kLess,
    kGreater,
    kArbitrary
  };

  // One clause ("==2.5.*"). The error says what is wrong with it.
  static Result<Pep440Specifier> Parse(std::string_view text);

  Op op() const { return op_; }
  bool wildcard() const { return wildcard_; }
  // The version after the operator (for a wildcard, its prefix); unset for "===".
  const Pep440Version& version() const { return version_; }
  // The operand as written after the operator, trimmed ("2.5.*", "foo" for ===foo).
  const std::string& operand() const { return operand_; }
  // Pins one version: "==V" without a wildcard, or "===V".
  bool is_pin() const { return (op_ == Op::kEqual && !wildcard_) || op_ == Op::kArbitrary; }

  bool Contains(const Pep440Version& candidate) const;
  std::string ToString() const;  // "==2.5.*", normalized

 private:
  bool EqualTo(const Pep440Version& candidate) const;
  bool PrefixMatch(const Pep440Version& candidate) const;
  bool LessThan(const Pep440Version& candidate) const;
  bool GreaterThan(const Pep440Version& candidate) const;
  bool InPrefixRange(const Pep440Version& candidate, const Pep440Version& lower,
                     std::vector<std::uint64_t> prefix) const;

  Op op_ = Op::kEqual;
  bool wildcard_ = false;
  Pep440Version version_;
  std::string operand_;
};

// A comma-separated list of clauses, all of which must hold; empty matches every version.
class Pep440SpecifierSet {
 public:
  static Result<Pep440SpecifierSet> Parse(std::string_view text);

  const std::vector<Pep440Specifier>& specifiers() const { return specifiers_; }
  bool empty() const { return specifiers_.empty(); }
  bool Contains(const Pep440Version& candidate) const;
  std::string ToString() const;  // ">=1.0,<2", normalized

 private:
  std::vector<Pep440Specifier> specifiers_;
};

}  // namespace bg

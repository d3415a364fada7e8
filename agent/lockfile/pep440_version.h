// Pep440Version: a Python package version as PEP 440 defines it, parsed, normalized and ordered.
//
// What lockfiles contain: "2.5.1", "2.5.1+cu121", "1!2.0", "1.0rc1", "1.0.post2",
// "2.6.0.dev20241001", with the spellings PEP 440 accepts and normalizes ("1.0-alpha.1" is 1.0a1,
// "v1.0" is 1.0, "1.0-1" is 1.0.post1, "+ubuntu-1" is +ubuntu.1). The ordering is PEP 440's (and
// pip's, through the `packaging` library): dev < pre < final < post for one release, trailing zeros
// of the release ignored (1.0 == 1.0.0), and a local label sorting after the same public version.
//
// Legacy (non-PEP 440) versions are not accepted: Parse returns nullopt. Numeric components are
// limited to 64 bits, which no real version exceeds.
//
// Thread safety: a value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bg {

class Pep440Version {
 public:
  enum class PreKind { kAlpha = 0, kBeta = 1, kRc = 2 };
  struct Pre {
    PreKind kind = PreKind::kAlpha;
    std::uint64_t number = 0;
  };
  // One dot-separated part of a local label: numbers compare as numbers and sort after words.
  struct LocalPart {
    bool numeric = false;
    std::uint64_t number = 0;
    std::string text;  // lower case; empty when numeric
  };

  // Parses (case-insensitively, surrounding whitespace allowed); nullopt for anything else.
  static std::optional<Pep440Version> Parse(std::string_view text);

  std::uint64_t epoch() const { return epoch_; }
  const std::vector<std::uint64_t>& release() const { return release_; }
  const std::optional<Pre>& pre() const { return pre_; }
  const std::optional<std::uint64_t>& post() const { return post_; }
  const std::optional<std::uint64_t>& dev() const { return dev_; }
  const std::vector<LocalPart>& local() const { return local_; }

  // The n-th release component, 0 beyond the written ones (so 2 is 2.0.0).
  std::uint64_t ReleaseAt(std::size_t n) const { return n < release_.size() ? release_[n] : 0; }
  bool is_prerelease() const { return pre_.has_value() || dev_.has_value(); }
  bool is_postrelease() const { return post_.has_value(); }
  bool has_local() const { return !local_.empty(); }

  // Without the local label ("2.5.1+cu121" -> "2.5.1").
  Pep440Version Public() const;
  // Epoch and release only ("1!2.0rc1.post1+x" -> "1!2.0").
  Pep440Version Base() const;
  // Copies with one segment replaced and no local label, for the bounds of specifiers (what
  // packaging's Version.__replace__ does): "1.0".WithDev(0) is "1.0.dev0",
  // "1.0.post1".WithPost(2).WithDev(0) is "1.0.post2.dev0".
  Pep440Version WithDev(std::optional<std::uint64_t> dev) const;
  Pep440Version WithPost(std::optional<std::uint64_t> post) const;
  // Epoch and `release` only, with a dev segment: the smallest version of that release.
  Pep440Version ReleaseDev0(std::vector<std::uint64_t> release) const;
  // The same epoch and release (trailing zeros ignored: 1.0 and 1.0.0 are one release) and the
  // same pre-release segment.
  bool SameReleaseAndPre(const Pep440Version& other) const;

  // The normalized spelling ("1.0-Alpha.1" -> "1.0a1", "2.5.1+CU121" -> "2.5.1+cu121").
  std::string ToString() const;

  // <0, 0, >0 as `a` sorts before, equal to, or after `b`.
  friend int Compare(const Pep440Version& a, const Pep440Version& b);
  friend bool operator==(const Pep440Version& a, const Pep440Version& b) {
    return Compare(a, b) == 0;
  }
  friend bool operator!=(const Pep440Version& a, const Pep440Version& b) {
    return Compare(a, b) != 0;
  }
  friend bool operator<(const Pep440Version& a, const Pep440Version& b) {
    return Compare(a, b) < 0;
  }
  friend bool operator<=(const Pep440Version& a, const Pep440Version& b) {
    return Compare(a, b) <= 0;
  }
  friend bool operator>(const Pep440Version& a, const Pep440Version& b) {
    return Compare(a, b) > 0;
  }
  friend bool operator>=(const Pep440Version& a, const Pep440Version& b) {
    return Compare(a, b) >= 0;
  }

 private:
  friend class Pep440Parser;

  std::uint64_t epoch_ = 0;
  std::vector<std::uint64_t> release_;
  std::optional<Pre> pre_;
  std::optional<std::uint64_t> post_;
  std::optional<std::uint64_t> dev_;
  std::vector<LocalPart> local_;
};

int Compare(const Pep440Version& a, const Pep440Version& b);

}  // namespace bg

#include "agent/lockfile/pep440_version.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace bg {

// A cursor over the lower-cased text, following the grammar of PEP 440's appendix (the regular
// expression that `packaging` uses), one segment per method.
class Pep440Parser {
 public:
  explicit Pep440Parser(std::string_view text) : s_(text) {}

  std::optional<Pep440Version> Run() {
    Pep440Version v;
    if (Peek() == 'v') ++pos_;
    if (!EpochAndRelease(v) || !PreRelease(v) || !PostRelease(v) || !DevRelease(v) || !Local(v)) {
      return std::nullopt;
    }
    if (pos_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  char Peek(std::size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsSep(char c) { return c == '.' || c == '-' || c == '_'; }

  // Digits at the cursor; false (cursor unchanged) when there are none or they overflow.
  bool Number(std::uint64_t* out) {
    std::size_t p = pos_;
    std::uint64_t n = 0;
    while (p < s_.size() && IsDigit(s_[p])) {
      const auto d = static_cast<std::uint64_t>(s_[p] - '0');
      if (n > (UINT64_MAX - d) / 10) return false;
      n = n * 10 + d;
      ++p;
    }
    if (p == pos_) return false;
    pos_ = p;
    *out = n;
    return true;
  }

  // An optional number after a label: "rc1", "rc.1", "rc-1", "rc" (0). A separator is taken
  // only when digits follow it, so "1.0a.post1" leaves ".post1" to the next segment.
  std::uint64_t ImplicitNumber() {
    if (IsSep(Peek()) && IsDigit(Peek(1))) ++pos_;
    std::uint64_t n = 0;
    if (IsDigit(Peek()) && !Number(&n)) overflow_ = true;
    return n;
  }

  // One of `labels` at the cursor, after an optional separator; the index, or -1 (unchanged).
  template <std::size_t N>
  int Label(const std::array<std::string_view, N>& labels) {
    const std::size_t start = pos_;
    if (IsSep(Peek())) ++pos_;
    for (std::size_t i = 0; i < N; ++i) {
      if (s_.substr(pos_, labels[i].size()) == labels[i]) {
        pos_ += labels[i].size();
        return static_cast<int>(i);
      }
    }
    pos_ = start;
    return -1;
  }

  bool EpochAndRelease(Pep440Version& v) {
    std::uint64_t n = 0;
    if (!Number(&n)) return false;
    if (Peek() == '!') {
      ++pos_;
      v.epoch_ = n;
      if (!Number(&n)) return false;
    }
    v.release_.push_back(n);
    while (Peek() == '.' && IsDigit(Peek(1))) {
      ++pos_;
      if (!Number(&n)) return false;
      v.release_.push_back(n);
    }
    return true;
  }

  bool PreRelease(Pep440Version& v) {
    // Longer spellings first: "preview" before "pre", "alpha" before "a".
    static constexpr std::array<std::string_view, 8> kLabels = {"alpha",   "a",   "beta", "b",
                                                                "preview", "pre", "rc",   "c"};
    static constexpr std::array<Pep440Version::PreKind, 8> kKinds = {
        Pep440Version::PreKind::kAlpha, Pep440Version::PreKind::kAlpha,
        Pep440Version::PreKind::kBeta,  Pep440Version::PreKind::kBeta,
        Pep440Version::PreKind::kRc,    Pep440Version::PreKind::kRc,
        Pep440Version::PreKind::kRc,    Pep440Version::PreKind::kRc};
    const int i = Label(kLabels);
    if (i < 0) return true;
    v.pre_ = Pep440Version::Pre{kKinds[static_cast<std::size_t>(i)], ImplicitNumber()};
    return !overflow_;
  }

  bool PostRelease(Pep440Version& v) {
    if (Peek() == '-' && IsDigit(Peek(1))) {  // "1.0-1": an implicit post-release
      ++pos_;
      std::uint64_t n = 0;
      if (!Number(&n)) return false;
      v.post_ = n;
      return true;
    }
    static constexpr std::array<std::string_view, 3> kLabels = {"post", "rev", "r"};
    if (Label(kLabels) < 0) return true;
    v.post_ = ImplicitNumber();
    return !overflow_;
  }

  bool DevRelease(Pep440Version& v) {
    static constexpr std::array<std::string_view, 1> kLabels = {"dev"};
    if (Label(kLabels) < 0) return true;
    v.dev_ = ImplicitNumber();
    return !overflow_;
  }

  bool Local(Pep440Version& v) {
    if (Peek() != '+') return true;
    ++pos_;
    while (true) {
      const std::size_t start = pos_;
      while (std::isalnum(static_cast<unsigned char>(Peek()))) ++pos_;
      if (pos_ == start) return false;
      v.local_.push_back(LocalPartOf(s_.substr(start, pos_ - start)));
      if (!v.local_.back().numeric && v.local_.back().text.empty()) return false;  // overflow
      if (!IsSep(Peek())) return true;
      ++pos_;
    }
  }

  static Pep440Version::LocalPart LocalPartOf(std::string_view part) {
    Pep440Version::LocalPart out;
    if (!std::all_of(part.begin(), part.end(), IsDigit)) {
      out.text = std::string(part);
      return out;
    }
    std::uint64_t n = 0;
    for (char c : part) {
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (n > (UINT64_MAX - d) / 10) return out;  // not numeric, no text: rejected by the caller
      n = n * 10 + d;
    }
    out.numeric = true;
    out.number = n;
    return out;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  bool overflow_ = false;
};

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// PEP 440's sort key for the pre-release segment: a dev release of a final version (1.0.dev0)
// sorts before its pre-releases, a final release after them.
std::pair<int, std::pair<int, std::uint64_t>> PreKey(const Pep440Version& v) {
  if (v.pre()) return {1, {static_cast<int>(v.pre()->kind), v.pre()->number}};
  if (!v.post() && v.dev()) return {0, {0, 0}};
  return {2, {0, 0}};
}

int CompareRelease(const Pep440Version& a, const Pep440Version& b) {
  const std::size_t n = std::max(a.release().size(), b.release().size());
  for (std::size_t i = 0; i < n; ++i) {
    if (int c = Cmp(a.ReleaseAt(i), b.ReleaseAt(i))) return c;
  }
  return 0;
}

int CompareLocalPart(const Pep440Version::LocalPart& a, const Pep440Version::LocalPart& b) {
  if (a.numeric != b.numeric) return a.numeric ? 1 : -1;
  return a.numeric ? Cmp(a.number, b.number) : Cmp(a.text, b.text);
}

int CompareLocal(const Pep440Version& a, const Pep440Version& b) {
  const auto& x = a.local();
  const auto& y = b.local();
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (int c = CompareLocalPart(x[i], y[i])) return c;
  }
  return Cmp(x.size(), y.size());
}

}  // namespace

std::optional<Pep440Version> Pep440Version::Parse(std::string_view text) {
  std::string lower(Trim(text));
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  Pep440Parser parser(lower);
  return parser.Run();
}

Pep440Version Pep440Version::Public() const {
  Pep440Version v = *this;
  v.local_.clear();
  return v;
}

Pep440Version Pep440Version::Base() const {
  Pep440Version v;
  v.epoch_ = epoch_;
  v.release_ = release_;
  return v;
}

Pep440Version Pep440Version::WithDev(std::optional<std::uint64_t> dev) const {
  Pep440Version v = Public();
  v.dev_ = dev;
  return v;
}

Pep440Version Pep440Version::WithPost(std::optional<std::uint64_t> post) const {
  Pep440Version v = Public();
  v.post_ = post;
  return v;
}

Pep440Version Pep440Version::ReleaseDev0(std::vector<std::uint64_t> release) const {
  Pep440Version v;
  v.epoch_ = epoch_;
  v.release_ = std::move(release);
  v.dev_ = 0;
  return v;
}

bool Pep440Version::SameReleaseAndPre(const Pep440Version& other) const {
  if (epoch_ != other.epoch_ || CompareRelease(*this, other) != 0) return false;
  if (pre_.has_value() != other.pre_.has_value()) return false;
  return !pre_ || (pre_->kind == other.pre_->kind && pre_->number == other.pre_->number);
}

std::string Pep440Version::ToString() const {
  std::string out;
  if (epoch_ != 0) out += std::to_string(epoch_) + "!";
  for (std::size_t i = 0; i < release_.size(); ++i) {
    if (i != 0) out += ".";
    out += std::to_string(release_[i]);
  }
  if (pre_) {
    static constexpr std::array<std::string_view, 3> kNames = {"a", "b", "rc"};
    out += kNames[static_cast<std::size_t>(pre_->kind)];
    out += std::to_string(pre_->number);
  }
  if (post_) out += ".post" + std::to_string(*post_);
  if (dev_) out += ".dev" + std::to_string(*dev_);
  for (std::size_t i = 0; i < local_.size(); ++i) {
    out += i == 0 ? "+" : ".";
    out += local_[i].numeric ? std::to_string(local_[i].number) : local_[i].text;
  }
  return out;
}

int Compare(const Pep440Version& a, const Pep440Version& b) {
  if (int c = Cmp(a.epoch(), b.epoch())) return c;
  if (int c = CompareRelease(a, b)) return c;
  if (int c = Cmp(PreKey(a), PreKey(b))) return c;
  // No post-release sorts first; no dev release sorts last.
  if (int c = Cmp(a.post().has_value(), b.post().has_value())) return c;
  if (int c = Cmp(a.post().value_or(0), b.post().value_or(0))) return c;
  if (int c = Cmp(!a.dev().has_value(), !b.dev().has_value())) return c;
  if (int c = Cmp(a.dev().value_or(0), b.dev().value_or(0))) return c;
  return CompareLocal(a, b);
}

}  // namespace bg

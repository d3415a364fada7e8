#include "agent/signature/allowed_signers.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>

#include "agent/signature/ssh_pattern.h"

namespace bg {
namespace {

constexpr std::size_t kMaxLineBytes = 64 * 1024;

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view SkipSpace(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Key types ssh-keygen knows. A token that is one of these starts the key; anything else in
// that position is the options field (as sshkey_read failing makes ssh-keygen try options).
bool IsKnownKeyType(std::string_view t) {
  static constexpr std::string_view kTypes[] = {
      "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
      "ssh-rsa", "ssh-dss", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
      "ssh-ed25519-cert-v01@openssh.com", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
      "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
      "ssh-rsa-cert-v01@openssh.com", "ssh-dss-cert-v01@openssh.com",
      "sk-ssh-ed25519-cert-v01@openssh.com", "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com"};
  for (const auto k : kTypes) {
    if (t == k) return true;
  }
  return false;
}

bool IsSupportedKeyType(std::string_view t) {
  return t == "ssh-ed25519" || t == "ecdsa-sha2-nistp256" || t == "ecdsa-sha2-nistp384" ||
         t == "ecdsa-sha2-nistp521" || t == "ssh-rsa";
}

// The next whitespace-delimited token of `s` (consumed).
std::string_view Token(std::string_view& s) {
  std::size_t end = 0;
  while (end < s.size() && !IsSpace(s[end])) ++end;
  std::string_view t = s.substr(0, end);
  s.remove_prefix(end);
  return t;
}

// A double-quoted value at the front of `s` (consumed); \" stands for ". nullopt when unclosed.
std::optional<std::string> Dequote(std::string_view& s) {
  if (s.empty() || s.front() != '"') return std::nullopt;
  std::string out;
  std::size_t i = 1;
  while (i < s.size() && s[i] != '"') {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"') ++i;
    out += s[i++];
  }
  if (i >= s.size()) return std::nullopt;
  s.remove_prefix(i + 1);
  return out;
}

struct LineOptions {
  bool cert_authority = false;
  std::optional<std::string> namespaces;
  std::optional<std::int64_t> valid_after;
  std::optional<std::int64_t> valid_before;
};

struct LineParser {
  const std::string& source;
  int number;
  std::string error;

  bool Fail(std::string why) {
    error = source + ":" + std::to_string(number) + ": " + why;
    return false;
  }

  // options: opt[,opt...] ending at unquoted whitespace.
  bool Options(std::string_view& s, LineOptions& out) {
    while (!s.empty() && !IsSpace(s.front())) {
      if (StartsWithNoCase(s, "cert-authority")) {
        s.remove_prefix(14);
        out.cert_authority = true;
      } else if (StartsWithNoCase(s, "namespaces=")) {
        s.remove_prefix(11);
        if (out.namespaces) return Fail("more than one namespaces= option");
        auto v = Dequote(s);
        if (!v) return Fail("namespaces= needs a double-quoted value");
        if (v->empty()) return Fail("namespaces=\"\" allows nothing");
        out.namespaces = std::move(*v);
      } else if (StartsWithNoCase(s, "valid-after=") || StartsWithNoCase(s, "valid-before=")) {
        const bool after = StartsWithNoCase(s, "valid-after=");
        s.remove_prefix(after ? 12 : 13);
        auto& field = after ? out.valid_after : out.valid_before;
        const char* name = after ? "valid-after" : "valid-before";
        if (field) return Fail(std::string("more than one ") + name + " option");
        auto v = Dequote(s);
        if (!v) return Fail(std::string(name) + "= needs a double-quoted value");
        const auto t = ParseSshTimestamp(*v);
        if (!t || *t == 0) {
          return Fail(std::string(name) + "=\"" + *v +
                      "\" is not a time: write YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, with a "
                      "Z suffix for UTC");
        }
        field = *t;
      } else {
        return Fail("unknown option \"" + std::string(Token(s).substr(0, 40)) +
                    "\" (known: cert-authority, namespaces=, valid-after=, valid-before=)");
      }
      if (s.empty() || IsSpace(s.front())) break;
      if (s.front() != ',') return Fail("options must be separated by commas, without spaces");
      s.remove_prefix(1);
      if (s.empty() || IsSpace(s.front())) return Fail("a comma ends the options");
    }
    if (out.valid_after && out.valid_before && *out.valid_before <= *out.valid_after) {
      return Fail("valid-before is not after valid-after");
    }
    return true;
  }
};

}  // namespace

std::optional<std::int64_t> ParseSshTimestamp(std::string_view text) {
  bool utc = false;
  if (text.size() > 1 && (text.back() == 'Z' || text.back() == 'z')) {
    utc = true;
    text.remove_suffix(1);
  } else if (text.size() > 3 && StartsWithNoCase(text.substr(text.size() - 3), "utc")) {
    utc = true;
    text.remove_suffix(3);
  }
  if (text.size() != 8 && text.size() != 12 && text.size() != 14) return std::nullopt;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v * 10 + (text[at + i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  if (text.size() >= 12) {
    tm.tm_hour = num(8, 2);
    tm.tm_min = num(10, 2);
  }
  if (text.size() == 14) tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_isdst = -1;
  const std::tm requested = tm;
  const std::time_t t = utc ? timegm(&tm) : mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  // timegm/mktime normalize 20260231 to March 3rd: refuse dates that do not exist.
  if (tm.tm_mday != requested.tm_mday || tm.tm_mon != requested.tm_mon) return std::nullopt;
  return static_cast<std::int64_t>(t);
}

std::string FormatUtc(std::int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<AllowedSigners> AllowedSigners::Parse(std::string_view text, const std::string& source) {
  if (text.size() > kMaxAllowedSignersBytes) {
    return Status::Error(source + ": larger than " + std::to_string(kMaxAllowedSignersBytes) +
                         " bytes");
  }
  AllowedSigners out;
  out.source_ = source;
  int number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    LineParser p{source, number, {}};
    if (line.size() > kMaxLineBytes) return Status::Error(source + ":" + std::to_string(number) + ": line too long");
    if (line.find('\0') != std::string_view::npos) {
      return Status::Error(source + ":" + std::to_string(number) + ": NUL byte in the line");
    }
    line = SkipSpace(line);
    if (line.empty() || line.front() == '#') continue;

    std::string principals;
    if (line.front() == '"') {
      auto q = Dequote(line);
      if (!q) return Status::Error(source + ":" + std::to_string(number) + ": unclosed quote in the principals");
      if (!line.empty() && !IsSpace(line.front())) {
        return Status::Error(source + ":" + std::to_string(number) + ": text right after the quoted principals");
      }
      principals = std::move(*q);
    } else {
      principals = std::string(Token(line));
    }
    if (principals.empty()) return Status::Error(source + ":" + std::to_string(number) + ": empty principals");
    line = SkipSpace(line);
    if (line.empty()) return Status::Error(source + ":" + std::to_string(number) + ": no key after the principals");

    // Options, unless the next token is a key type.
    std::string_view peek = line;
    const std::string_view first = Token(peek);
    LineOptions options;
    if (!IsKnownKeyType(first)) {
      if (!p.Options(line, options)) return Status::Error(p.error);
      line = SkipSpace(line);
    }
    const std::string_view type = Token(line);
    line = SkipSpace(line);
    const std::string_view base64 = Token(line);
    if (type.empty() || base64.empty()) {
      return Status::Error(source + ":" + std::to_string(number) + ": expected \"<key type> <base64 key>\"");
    }
    if (!IsKnownKeyType(type)) {
      return Status::Error(source + ":" + std::to_string(number) + ": unknown key type \"" +
                           std::string(type.substr(0, 60)) + "\"");
    }
    if (!IsSupportedKeyType(type)) {
      out.warnings_.push_back(source + ":" + std::to_string(number) + ": " + std::string(type) +
                              " keys are not supported by bundlegate; this line never matches");
      continue;
    }
    auto key = SshPublicKey::FromText(type, base64);
    if (!key.ok()) {
      return Status::Error(source + ":" + std::to_string(number) + ": " + key.status().message());
    }
    if (options.cert_authority) {
      out.warnings_.push_back(source + ":" + std::to_string(number) +
                              ": cert-authority: bundlegate does not verify SSH certificates; "
                              "this line never matches");
    }
    out.signers_.push_back(AllowedSigner{number, std::move(principals), options.cert_authority,
                                         std::move(options.namespaces), options.valid_after,
                                         options.valid_before, std::move(key).value()});
  }
  return out;
}

Result<AllowedSigners> AllowedSigners::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(path + ": cannot be opened");
  std::string text(kMaxAllowedSignersBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Status::Error(path + ": cannot be read");
  text.resize(static_cast<std::size_t>(in.gcount()));
  return Parse(text, path);
}

SignerLookup AllowedSigners::Find(const SshPublicKey& key, std::string_view sig_namespace,
                                  std::int64_t time, std::string_view principal) const {
  SignerLookup out;
  for (const AllowedSigner& s : signers_) {
    if (!principal.empty() && MatchSshPatternList(principal, s.principals) != PatternListMatch::kYes) {
      continue;
    }
    if (s.cert_authority || !(s.key == key)) continue;
    const std::string at = source_ + ":" + std::to_string(s.line) + ": ";
    std::string why;
    if (s.namespaces && MatchSshPatternList(sig_namespace, *s.namespaces) != PatternListMatch::kYes) {
      why = at + "the key may sign only in namespaces \"" + *s.namespaces + "\", not \"" +
            std::string(sig_namespace) + "\"";
    } else if (s.valid_after && time < *s.valid_after) {
      why = at + "the key is not valid before " + FormatUtc(*s.valid_after) + " (verified at " +
            FormatUtc(time) + ")";
    } else if (s.valid_before && time > *s.valid_before) {
      why = at + "the key expired at " + FormatUtc(*s.valid_before) + " (verified at " +
            FormatUtc(time) + ")";
    } else {
      out.signer = &s;
      out.why_not.clear();
      return out;
    }
    if (!out.key_listed) out.why_not = why;
    out.key_listed = true;
  }
  if (!out.key_listed) {
    out.why_not = "the key " + key.Fingerprint() + " is not listed in " + source_ +
                  (principal.empty() ? std::string() : " for principal \"" + std::string(principal) + "\"");
  }
  return out;
}

}  // namespace bg

#include "agent/lockfile/artifact_name.h"

#include <cctype>

namespace bg {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string EggName(std::string_view reference) {
  const std::size_t hash = reference.find('#');
  if (hash == std::string_view::npos) return "";
  std::string_view fragment = reference.substr(hash + 1);
  while (!fragment.empty()) {
    const std::size_t amp = fragment.find('&');
    const std::string_view item = fragment.substr(0, amp);
    if (item.substr(0, 4) == "egg=") {
      std::string_view name = item.substr(4);
      return std::string(name.substr(0, name.find_first_of("[=<>!~ ")));
    }
    if (amp == std::string_view::npos) break;
    fragment.remove_prefix(amp + 1);
  }
  return "";
}

// The last path component, without query, fragment, "@ref" of a VCS URL or trailing slash.
std::string LastComponent(std::string_view reference) {
  std::string_view s = reference.substr(0, reference.find_first_of("?#"));
  while (EndsWith(s, "/")) s.remove_suffix(1);
  std::string_view last = s.substr(s.find_last_of('/') + 1);
  if (reference.find('+') != std::string_view::npos && last.find('@') != std::string_view::npos) {
    last = last.substr(0, last.find('@'));
  }
  if (EndsWith(last, ".git")) last.remove_suffix(4);
  return PercentDecode(last);
}

}  // namespace

ArtifactName ArtifactNameOf(std::string_view reference) {
  ArtifactName out;
  out.name = EggName(reference);
  if (!out.name.empty()) return out;
  const std::string file = LastComponent(reference);
  if (EndsWith(file, ".whl")) {
    // {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl
    const std::size_t dash = file.find('-');
    const std::size_t dash2 = dash == std::string::npos ? dash : file.find('-', dash + 1);
    if (dash2 != std::string::npos) {
      out.name = file.substr(0, dash);
      out.version = file.substr(dash + 1, dash2 - dash - 1);
      return out;
    }
  }
  for (std::string_view ext : {".tar.gz", ".zip", ".tar.bz2", ".tgz"}) {
    if (!EndsWith(file, ext)) continue;
    const std::string stem = file.substr(0, file.size() - ext.size());
    const std::size_t dash = stem.rfind('-');
    if (dash != std::string::npos) {
      out.name = stem.substr(0, dash);
      out.version = stem.substr(dash + 1);
      return out;
    }
  }
  out.name = file;
  return out;
}

bool LooksLikePathOrUrl(std::string_view text) {
  if (text.find("://") != std::string_view::npos) return true;
  if (text.substr(0, 5) == "file:") return true;
  if (!text.empty() && (text[0] == '.' || text[0] == '/' || text[0] == '~')) return true;
  for (std::string_view ext : {".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"}) {
    if (EndsWith(text, ext)) return true;
  }
  return false;
}

}  // namespace bg

#include "plugins/modelscan/code_scanner.h"

namespace bg::modelscan {
namespace {

struct Token {
  std::string_view text;  // an identifier, or one punctuation character
  int line = 1;
};

bool IdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IdentChar(char c) { return IdentStart(c) || (c >= '0' && c <= '9'); }

constexpr std::size_t kMaxProblems = 20;

// Identifiers and punctuation, without strings, comments and whitespace, handed to `see` one by
// one (nothing is stored: a code entry may be large).
template <typename See>
void Tokens(std::string_view s, See&& see) {
  int line = 1;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const std::string quote(s.substr(i, 3) == std::string(3, c) ? 3 : 1, c);
      i += quote.size();
      while (i < s.size() && s.substr(i, quote.size()) != quote) {
        if (s[i] == '\\') ++i;
        if (i < s.size() && s[i] == '\n') ++line;
        ++i;
      }
      i += quote.size();
    } else if (IdentStart(c)) {
      const std::size_t start = i;
      while (i < s.size() && IdentChar(s[i])) ++i;
      see(Token{s.substr(start, i - start), line});
    } else {
      if (c != ' ' && c != '\t' && c != '\r') see(Token{s.substr(i, 1), line});
      ++i;
    }
  }
}

}  // namespace

std::vector<std::string> ScanTorchScriptCode(std::string_view source) {
  std::vector<std::string> problems;
  Token before[2];  // the two tokens before this one
  Tokens(source, [&](const Token& t) {
    const bool after_namespace =
        before[1].text == "." && (before[0].text == "torch" || before[0].text == "aten");
    const std::string where = "line " + std::to_string(t.line) + ": ";
    if (problems.size() < kMaxProblems && t.text == "from_file") {
      problems.push_back(where + "from_file (maps, and can create, a file)");
    } else if (problems.size() < kMaxProblems && t.text == "save" && after_namespace) {
      problems.push_back(where + std::string(before[0].text) + ".save (writes a file)");
    }
    before[0] = before[1];
    before[1] = t;
  });
  return problems;
}

}  // namespace bg::modelscan

#include "plugins/modelscan/code_scanner.h"

namespace bg::modelscan {
namespace {

struct Token {
  std::string_view text;  // an identifier, or one punctuation character
  int line = 1;
};

bool IdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IdentChar(char c) { return IdentStart(c) || (c >= '0' && c <= '9'); }

// Identifiers and punctuation, without strings, comments and whitespace.
std::vector<Token> Tokens(std::string_view s) {
  std::vector<Token> out;
  int line = 1;
  for (std::size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const bool triple = s.substr(i, 3) == std::string(3, c);
      const std::size_t quote = triple ? 3 : 1;
      i += quote;
      while (i < s.size() && s.substr(i, quote) != std::string(quote, c)) {
        if (s[i] == '\\') ++i;
        if (i < s.size() && s[i] == '\n') ++line;
        ++i;
      }
      i += quote;
    } else if (IdentStart(c)) {
      const std::size_t start = i;
      while (i < s.size() && IdentChar(s[i])) ++i;
      out.push_back({s.substr(start, i - start), line});
    } else {
      if (c != ' ' && c != '\t' && c != '\r') out.push_back({s.substr(i, 1), line});
      ++i;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> ScanTorchScriptCode(std::string_view source) {
  std::vector<std::string> problems;
  const std::vector<Token> t = Tokens(source);
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool after_namespace = i >= 2 && t[i - 1].text == "." &&
                                 (t[i - 2].text == "torch" || t[i - 2].text == "aten");
    const std::string where = "line " + std::to_string(t[i].line) + ": ";
    if (t[i].text == "from_file") {
      problems.push_back(where + "from_file (maps, and can create, a file)");
    } else if (t[i].text == "save" && after_namespace) {
      problems.push_back(where + std::string(t[i - 2].text) + ".save (writes a file)");
    }
  }
  return problems;
}

}  // namespace bg::modelscan

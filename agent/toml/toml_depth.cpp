#include "agent/toml/toml_depth.h"

#include <vector>

namespace bg {
namespace {

class DepthScanner {
 public:
  DepthScanner(std::string_view s, std::size_t limit) : s_(s), limit_(limit) {}

  TomlDepth Run() {
    while (i_ < s_.size() && out_.line == 0) Statement();
    return out_;
  }

 private:
  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek(std::size_t ahead = 0) const {
    return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0';
  }
  void Advance() {
    if (s_[i_] == '\n') ++line_;
    ++i_;
  }
  void Note(std::size_t depth) {
    if (depth > out_.depth) out_.depth = depth;
    if (depth > limit_ && out_.line == 0) out_.line = line_;
  }
  void SkipBlanks() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\r')) ++i_;
  }
  void SkipComment() {
    while (!AtEnd() && Peek() != '\n') ++i_;
  }

  // A basic or literal string, single- or multi-line, from its opening quote.
  void SkipString() {
    const char q = Peek();
    const bool multi = Peek(1) == q && Peek(2) == q;
    const std::size_t quotes = multi ? 3 : 1;
    i_ += quotes;
    while (!AtEnd()) {
      if (q == '"' && Peek() == '\\') {
        Advance();
        if (!AtEnd()) Advance();
        continue;
      }
      if (Peek() == q && (!multi || (Peek(1) == q && Peek(2) == q))) {
        i_ += quotes;
        while (multi && Peek() == q) ++i_;  // """a"""" ends with a quote in the string
        return;
      }
      if (Peek() == '\n' && !multi) return;  // unterminated: the parser will say so
      Advance();
    }
  }

  // The components of a key, up to (not past) one of `stops` or the end of the line.
  std::size_t KeyComponents(std::string_view stops) {
    std::size_t parts = 1;
    while (!AtEnd() && Peek() != '\n' && stops.find(Peek()) == std::string_view::npos) {
      if (Peek() == '"' || Peek() == '\'') {
        SkipString();
      } else {
        if (Peek() == '.') ++parts;
        ++i_;
      }
    }
    return parts;
  }

  void Statement() {
    SkipBlanks();
    if (AtEnd()) return;
    if (Peek() == '\n') return Advance();
    if (Peek() == '#') return SkipComment();
    if (Peek() == '[') return Header();
    const std::size_t depth = header_ + KeyComponents("=");
    Note(depth);
    if (Peek() != '=') return;  // malformed: the parser will say so
    ++i_;
    Value(depth);
  }

  void Header() {
    const bool array = Peek(1) == '[';
    i_ += array ? 2 : 1;
    header_ = KeyComponents("]") + (array ? 1 : 0);
    Note(header_);
    SkipComment();  // the closing brackets and whatever follows on the line
  }

  struct Frame {
    char kind;               // '[' or '{'
    std::size_t outer;       // the depth to return to when it closes
    std::size_t table = 0;   // for '{': the depth of the key holding the inline table
  };

  // An inline table's next key, after its '{' or a ','.
  void InlineKey(std::vector<Frame>& frames, std::size_t* depth) {
    SkipBlanks();
    if (Peek() == '}') return;
    *depth = frames.back().table + KeyComponents("=}");
    Note(*depth);
    if (Peek() == '=') ++i_;
  }

  // A value at `depth`: scalars are skipped, arrays and inline tables go one level deeper.
  void Value(std::size_t depth) {
    std::vector<Frame> frames;
    while (!AtEnd() && out_.line == 0) {
      const char c = Peek();
      if (c == '"' || c == '\'') {
        SkipString();
      } else if (c == '[') {
        frames.push_back({c, depth});
        Note(++depth);
        ++i_;
      } else if (c == '{') {
        // The inline table is the table of the key that holds it (as a header's table is):
        // its keys are the next level, each component one more (a = {b = 1} is 2 deep).
        frames.push_back({c, depth, depth});
        ++i_;
        InlineKey(frames, &depth);
      } else if ((c == ']' || c == '}') && !frames.empty()) {
        depth = frames.back().outer;
        frames.pop_back();
        ++i_;
      } else if (c == ',' && !frames.empty()) {
        ++i_;
        if (frames.back().kind == '{') InlineKey(frames, &depth);
      } else if (c == '\n' || c == '#') {
        if (frames.empty()) return;
        if (c == '#') {
          SkipComment();
        } else {
          Advance();
        }
      } else {
        ++i_;
      }
    }
  }

  std::string_view s_;
  std::size_t limit_;
  std::size_t i_ = 0;
  int line_ = 1;
  std::size_t header_ = 0;
  TomlDepth out_;
};

}  // namespace

TomlDepth TomlNestingDepth(std::string_view text, std::size_t limit) {
  return DepthScanner(text, limit).Run();
}

}  // namespace bg

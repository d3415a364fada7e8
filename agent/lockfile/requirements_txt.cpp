#include "agent/lockfile/requirements_txt.h"

#include <array>
#include <cctype>
#include <map>

#include "agent/lockfile/artifact_name.h"
#include "agent/lockfile/package_name.h"
#include "agent/lockfile/requirement.h"
#include "agent/toml/table_reader.h"

namespace bg {
namespace {

bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

struct LogicalLine {
  int line = 0;  // of its first physical line
  std::string text;
};

// pip's comment rule: "#" at the start of the line or after whitespace, to the end of the line.
// ("https://host/pkg.whl#sha256=..." keeps its fragment.)
std::string_view StripComment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || IsSpace(line[i - 1]))) return Trim(line.substr(0, i));
  }
  return Trim(line);
}

// pip's join_lines: a line ending in "\" continues on the next; a comment line ends a
// continuation. Comments are then removed and blank lines dropped.
std::vector<LogicalLine> LogicalLines(std::string_view text) {
  std::vector<LogicalLine> out;
  auto emit = [&out](int line, std::string_view s) {
    const std::string_view stripped = StripComment(s);
    if (!stripped.empty()) out.push_back({line, std::string(stripped)});
  };
  std::string joined;
  int first = 0;
  int number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? nl : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++number;
    while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
    const bool comment = !Trim(line).empty() && Trim(line).front() == '#';
    if (comment || line.empty() || line.back() != '\\') {
      if (first != 0) {
        emit(first, joined + (comment ? std::string(" ") : std::string()) + std::string(line));
        joined.clear();
        first = 0;
      } else {
        emit(number, line);
      }
      continue;
    }
    if (first == 0) first = number;
    line.remove_suffix(1);
    joined += line;
  }
  if (first != 0) emit(first, joined);
  return out;
}

struct Word {
  std::string_view text;
  std::size_t offset = 0;
};

std::vector<Word> SplitWords(std::string_view s) {
  std::vector<Word> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    const std::size_t begin = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > begin) words.push_back({s.substr(begin, i - begin), begin});
  }
  return words;
}

enum class OptionKind { kIgnored, kEditable, kInclude, kHash };

struct OptionSpec {
  std::string_view name;
  bool takes_value;
  OptionKind kind;
};

// The options pip accepts in a requirements file and that lockfile writers emit.
constexpr std::array<OptionSpec, 19> kOptions{{
    {"-e", true, OptionKind::kEditable},
    {"--editable", true, OptionKind::kEditable},
    {"-r", true, OptionKind::kInclude},
    {"--requirement", true, OptionKind::kInclude},
    {"-c", true, OptionKind::kInclude},
    {"--constraint", true, OptionKind::kInclude},
    {"-i", true, OptionKind::kIgnored},
    {"--index-url", true, OptionKind::kIgnored},
    {"--extra-index-url", true, OptionKind::kIgnored},
    {"--no-index", false, OptionKind::kIgnored},
    {"-f", true, OptionKind::kIgnored},
    {"--find-links", true, OptionKind::kIgnored},
    {"--trusted-host", true, OptionKind::kIgnored},
    {"--pre", false, OptionKind::kIgnored},
    {"--prefer-binary", false, OptionKind::kIgnored},
    {"--only-binary", true, OptionKind::kIgnored},
    {"--no-binary", true, OptionKind::kIgnored},
    {"--use-feature", true, OptionKind::kIgnored},
    {"--hash", true, OptionKind::kHash},
}};

const OptionSpec* FindOption(std::string_view name) {
  for (const auto& o : kOptions) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

struct ParsedOption {
  const OptionSpec* spec = nullptr;
  std::string name;
  std::string value;
};

// Reads the option at words[*i] (and its value), advancing *i past them.
Result<ParsedOption> ReadOption(const std::vector<Word>& words, std::size_t* i) {
  std::string_view word = words[*i].text;
  ParsedOption out;
  std::optional<std::string_view> value;
  const std::size_t eq = word.find('=');
  if (word.substr(0, 2) == "--" && eq != std::string_view::npos) {
    value = word.substr(eq + 1);
    word = word.substr(0, eq);
  } else if (word.size() > 2 && word[1] != '-') {  // "-e." or "-rbase.txt"
    value = word.substr(2);
    word = word.substr(0, 2);
  }
  out.name = std::string(word);
  out.spec = FindOption(word);
  ++*i;
  if (out.spec == nullptr) return Status::Error("unknown option " + out.name);
  if (out.spec->takes_value && !value) {
    if (*i == words.size()) return Status::Error(out.name + " needs a value");
    value = words[(*i)++].text;
  }
  if (!out.spec->takes_value && value) return Status::Error(out.name + " takes no value");
  out.value = std::string(value.value_or(""));
  return out;
}

// "sha256:<64 hex>" (or sha384, sha512), as pip's --require-hashes accepts.
bool IsValidHash(std::string_view h) {
  const std::size_t colon = h.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view algo = h.substr(0, colon);
  const std::string_view hex = h.substr(colon + 1);
  const std::size_t want = algo == "sha256"   ? 64
                           : algo == "sha384" ? 96
                           : algo == "sha512" ? 128
                                              : 0;
  if (want == 0 || hex.size() != want) return false;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class RequirementsParser {
 public:
  explicit RequirementsParser(const std::string& source) : errors_(source) {
    lock_.format = LockfileFormat::kRequirements;
    lock_.source = source;
  }

  Result<Lockfile> Run(std::string_view text) {
    for (const auto& line : LogicalLines(text)) {
      if (line.text.front() == '-') {
        OptionLine(line);
      } else {
        RequirementLine(line);
      }
    }
    BG_RETURN_IF_ERROR(errors_.ToStatus(Reason::kLockfileInvalid));
    return std::move(lock_);
  }

 private:
  void OptionLine(const LogicalLine& line) {
    const auto words = SplitWords(line.text);
    std::size_t i = 0;
    while (i < words.size()) {
      if (words[i].text.front() != '-') {
        errors_.Add(line.line, "", "unexpected \"" + std::string(words[i].text) + "\"");
        return;
      }
      auto option = ReadOption(words, &i);
      if (!option.ok()) {
        errors_.Add(line.line, "", option.status().message());
        return;
      }
      Option(line, *option);
    }
  }

  void Option(const LogicalLine& line, const ParsedOption& option) {
    switch (option.spec->kind) {
      case OptionKind::kIgnored:
        return;
      case OptionKind::kHash:
        errors_.Add(line.line, "", "--hash without a requirement before it (a missing \\?)");
        return;
      case OptionKind::kInclude:
        errors_.Add(line.line, "",
                    option.name + " " + option.value +
                        ": includes another file; a bundle's lockfile must be "
                        "self-contained");
        return;
      case OptionKind::kEditable:
        Editable(line, option.value);
        return;
    }
  }

  void Editable(const LogicalLine& line, const std::string& target) {
    LockedPackage p;
    p.name = ArtifactNameOf(target).name;
    if (p.name.empty()) p.name = target;
    p.unpinned_why = "editable install (-e " + target + ")";
    // uv export writes the project itself so; its code is pinned by the bundle's commit instead.
    if (target == "." || target == "./") {
      p.unpinned_why += ", the project itself: export with --no-emit-project";
    }
    p.line = line.line;
    Add(line, std::move(p));
  }

  void RequirementLine(const LogicalLine& line) {
    const auto words = SplitWords(line.text);
    std::size_t first_option = words.size();
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (words[i].text.front() == '-') {
        first_option = i;
        break;
      }
    }
    const std::string_view req_text =
        first_option == words.size()
            ? std::string_view(line.text)
            : Trim(std::string_view(line.text).substr(0, words[first_option].offset));
    LockedPackage p;
    p.line = line.line;
    if (!FillFromRequirement(req_text, &p, line.line)) return;
    for (std::size_t i = first_option; i < words.size();) {
      auto option = ReadOption(words, &i);
      if (!option.ok() || option->spec->kind != OptionKind::kHash) {
        errors_.Add(line.line, "",
                    option.ok() ? option->name + ": not allowed after a requirement"
                                : option.status().message());
        return;
      }
      if (!IsValidHash(option->value)) {
        errors_.Add(
            line.line, "",
            "bad --hash \"" + option->value + "\" (expected sha256:<64 hex>, sha384 or sha512)");
        return;
      }
      ++p.hashes;
    }
    Add(line, std::move(p));
  }

  // Fills `p` from the requirement text; false after reporting an error.
  bool FillFromRequirement(std::string_view text, LockedPackage* p, int line) {
    auto req = ParseRequirement(text);
    if (!req.ok()) {
      if (!LooksLikePathOrUrl(text)) {
        errors_.Add(line, "", req.status().message());
        return false;
      }
      const ArtifactName artifact = ArtifactNameOf(text);
      p->name = artifact.name.empty() ? std::string(text) : artifact.name;
      p->version = artifact.version;
      p->unpinned_why = "direct reference (" + std::string(text) + ")";
      return true;
    }
    p->name = req->name;
    p->marker = req->marker;
    if (!req->url.empty()) {
      p->version = ArtifactNameOf(req->url).version;
      p->unpinned_why = "direct reference (@ " + req->url + ")";
      return true;
    }
    const auto& specs = req->specifiers.specifiers();
    if (specs.size() == 1 && specs[0].is_pin()) {
      p->pinned = true;
      p->version = specs[0].operand();
    } else {
      p->unpinned_why =
          specs.empty() ? "no version" : "version range \"" + req->specifier_text + "\"";
    }
    return true;
  }

  void Add(const LogicalLine& line, LockedPackage p) {
    if (Status st = FinishPackage(p); !st.ok()) {
      errors_.Add(line.line, "", st.message());
      return;
    }
    if (IsConflictingDuplicate(p)) return;
    lock_.packages.push_back(std::move(p));
  }

  // Two unconditional pins of one package at different versions: pip cannot install the file.
  bool IsConflictingDuplicate(const LockedPackage& p) {
    if (!p.pinned || !p.marker.empty()) return false;
    const auto [it, inserted] = unconditional_.emplace(p.key, lock_.packages.size());
    if (inserted) return false;
    const LockedPackage& first = lock_.packages[it->second];
    if (first.parsed && p.parsed && *first.parsed == *p.parsed) return false;
    errors_.Add(p.line, "",
                p.name + " is locked twice without markers to choose: " + first.version +
                    " (line " + std::to_string(first.line) + ") and " + p.version);
    return true;
  }

  ErrorList errors_;
  Lockfile lock_;
  std::map<std::string, std::size_t> unconditional_;  // key -> index of its unconditional pin
};

}  // namespace

Result<Lockfile> ParseRequirementsTxt(std::string_view text, const std::string& source) {
  return RequirementsParser(source).Run(text);
}

}  // namespace bg

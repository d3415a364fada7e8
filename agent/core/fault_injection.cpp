#include "agent/core/fault_injection.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include "agent/core/errno_status.h"
#include "agent/core/file_contents.h"

namespace bg {
namespace {

struct Rule {
  std::string op;
  int err = 0;
  long nth = 1;
  long count = 1;  // 0: forever
  std::string pattern;
  bool glob = false;
  long hits = 0;  // matching calls so far

  bool Matches(std::string_view call_op, std::string_view path) const {
    if (call_op != op) return false;
    if (pattern.empty()) return true;
    if (!glob) return path.find(pattern) != std::string_view::npos;
    return ::fnmatch(pattern.c_str(), std::string(path).c_str(), 0) == 0;
  }
};

std::string Trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

bool ParseLong(const std::string& text, long min, long* out) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < min) return false;
  *out = v;
  return true;
}

// One rule: <op>:<ERRNO>[:<nth>[:<count>]][@<pattern>].
bool ParseRule(const std::string& text, Rule* rule) {
  std::string head = text;
  if (const auto at = text.find('@'); at != std::string::npos) {
    rule->pattern = text.substr(at + 1);
    rule->glob = rule->pattern.find_first_of("*?[") != std::string::npos;
    head = text.substr(0, at);
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto colon = head.find(':', start);
    parts.push_back(head.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 4 || parts[0].empty()) return false;
  rule->op = parts[0];
  const auto err = ParseErrno(parts[1]);
  if (!err) return false;
  rule->err = *err;
  if (parts.size() >= 3 && !ParseLong(parts[2], 1, &rule->nth)) return false;
  if (parts.size() == 4 && !ParseLong(parts[3], 0, &rule->count)) return false;
  return true;
}

// Every rule of `spec` (separated by ',' or newlines; '#' starts a comment line), or none at all
// when one is malformed (reported on stderr).
std::vector<Rule> ParseRules(const std::string& spec, const char* where) {
  std::vector<Rule> rules;
  std::size_t start = 0;
  while (start <= spec.size()) {
    const auto end = std::min(spec.find_first_of(",\n", start), spec.size());
    const std::string item = Trim(std::string_view(spec).substr(start, end - start));
    start = end + 1;
    if (item.empty() || item[0] == '#') continue;
    Rule rule;
    if (!ParseRule(item, &rule)) {
      std::fprintf(stderr, "bundlegate: %s: ignoring malformed fault spec \"%s\" "
                           "(want <op>:<ERRNO>[:<nth>[:<count>]][@<path>])\n", where, item.c_str());
      return {};
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

struct FileSignature {
  bool exists = false;
  ino_t ino = 0;
  off_t size = 0;
  long mtime_ns = 0;
  bool operator==(const FileSignature& o) const {
    return exists == o.exists && ino == o.ino && size == o.size && mtime_ns == o.mtime_ns;
  }
};

FileSignature SignatureOf(const std::string& path) {
  FileSignature sig;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return sig;
  sig.exists = true;
  sig.ino = st.st_ino;
  sig.size = st.st_size;
  sig.mtime_ns = st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec;
  return sig;
}

class FaultState {
 public:
  FaultState() {
    if (const char* spec = std::getenv("BUNDLEGATE_FAULT"); spec != nullptr && *spec != '\0') {
      env_rules_ = ParseRules(spec, "BUNDLEGATE_FAULT");
      active_ = true;
    }
    if (const char* file = std::getenv("BUNDLEGATE_FAULT_FILE"); file != nullptr && *file != '\0') {
      file_ = file;
      active_ = true;
    }
    if (const char* trace = std::getenv("BUNDLEGATE_FAULT_TRACE"); trace != nullptr && *trace != '\0') {
      trace_fd_ = ::open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      active_ = true;
    }
  }

  bool active() const { return active_; }

  Status Check(std::string_view op, std::string_view path) {
    std::lock_guard<std::mutex> lock(mu_);
    if (trace_fd_ >= 0) {
      std::string line(op);
      line += '\t';
      line += path;
      line += '\n';
      (void)!::write(trace_fd_, line.data(), line.size());
    }
    if (!file_.empty()) ReloadFileIfChanged();
    for (auto* rules : {&env_rules_, &file_rules_}) {
      for (Rule& rule : *rules) {
        if (!rule.Matches(op, path)) continue;
        const long hit = ++rule.hits;
        if (hit < rule.nth || (rule.count != 0 && hit >= rule.nth + rule.count)) continue;
        std::fprintf(stderr, "bundlegate: injected fault: %.*s %.*s fails with %s (call %ld)\n",
                     static_cast<int>(op.size()), op.data(), static_cast<int>(path.size()),
                     path.data(), ErrnoName(rule.err).c_str(), hit);
        return ErrnoStatus(op, path, rule.err);
      }
    }
    return Status::Ok();
  }

 private:
  void ReloadFileIfChanged() {
    const FileSignature sig = SignatureOf(file_);
    if (loaded_ && sig == file_sig_) return;
    loaded_ = true;
    file_sig_ = sig;
    const auto text = sig.exists ? ReadFileContents(file_) : std::nullopt;
    file_rules_ = text ? ParseRules(*text, "BUNDLEGATE_FAULT_FILE") : std::vector<Rule>{};
  }

  bool active_ = false;
  std::mutex mu_;
  std::vector<Rule> env_rules_;
  std::string file_;
  bool loaded_ = false;
  FileSignature file_sig_;
  std::vector<Rule> file_rules_;
  int trace_fd_ = -1;
};

FaultState& State() {
  static FaultState* state = new FaultState();  // never destroyed: used until exit
  return *state;
}

}  // namespace

Status CheckFault(std::string_view op, std::string_view path) {
  FaultState& state = State();
  if (!state.active()) return Status::Ok();
  return state.Check(op, path);
}

bool FaultInjectionActive() { return State().active(); }

}  // namespace bg

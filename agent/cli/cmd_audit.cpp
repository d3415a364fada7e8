// `bundlegate audit verify|tail|show`: read and verify the audit log (SPEC.md, "Audit log").
//
//   verify [--expect-head HASH] [--json]   exit 0 intact, 1 tampered or torn (naming the first
//                                          bad line and why), 2 unreadable log or usage error
//   tail [-n N] [--json]                   the last N records (default 20)
//   show NAME[@VERSION] [--json]           every record naming that bundle
//
// The log is the config's paths.audit_log (--config FILE, as every subcommand finds its
// config), or --file PATH. --json prints the records as JSON Lines, as they are in the log.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>

#include "agent/audit/audit_log.h"
#include "agent/audit/audit_text.h"
#include "agent/cli/command.h"
#include "agent/cli/config_loader.h"
#include "agent/core/hex.h"
#include "agent/core/json.h"

namespace bg::cli {
namespace {

struct AuditArgs {
  std::string config;
  std::string file;
  std::string expect_head;      // verify
  std::size_t lines = 20;       // tail
  std::string bundle;           // show: NAME[@VERSION]
  bool json = false;
};

int Fail(const char* sub, const std::string& message) {
  std::fprintf(stderr, "bundlegate audit %s: %s\n", sub, message.c_str());
  return kExitUsage;
}

Result<std::string> LogPath(const AuditArgs& args) {
  if (!args.file.empty()) return args.file;
  BG_ASSIGN_OR_RETURN(const Config config, LoadConfigForCli(args.config));
  return config.paths.audit_log;
}

void PrintRecords(const std::vector<Json>& records, bool json) {
  for (const Json& record : records) {
    std::printf("%s\n", (json ? DumpJson(record) : FormatAuditRecord(record)).c_str());
  }
}

Json VerifyJson(const std::string& path, const AuditVerifyReport& r, const std::string& expect) {
  Json j;
  j["log"] = path;
  j["intact"] = r.intact;
  j["lines"] = r.lines;
  j["head"] = r.head;
  if (!expect.empty()) j["head_matches"] = r.head == expect;
  j["bad_line"] = r.bad_line;
  j["why"] = r.why;
  j["torn_tail"] = r.torn_tail;
  return j;
}

void PrintVerifyHuman(const std::string& path, const AuditVerifyReport& r,
                      const std::string& expect) {
  if (!r.intact) {
    std::printf("not intact: %s\n  log %s, %llu complete lines\n", r.why.c_str(), path.c_str(),
                static_cast<unsigned long long>(r.lines));
  } else if (!expect.empty() && r.head != expect) {
    std::printf("head mismatch: expected %s, found %s (%llu lines): the last line was changed, "
                "or lines were added or removed after the head was recorded\n",
                expect.c_str(), r.head.c_str(), static_cast<unsigned long long>(r.lines));
  } else {
    std::printf("intact: %llu lines, head %s\n", static_cast<unsigned long long>(r.lines),
                r.head.c_str());
  }
}

int RunVerify(const AuditArgs& args) {
  std::string expect = args.expect_head;
  std::transform(expect.begin(), expect.end(), expect.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!expect.empty() && !IsLowerHex(expect, 64)) {
    return Fail("verify", "--expect-head needs a SHA-256: 64 hex characters");
  }
  const auto path = LogPath(args);
  if (!path.ok()) return Fail("verify", path.status().message());
  const AuditVerifyReport report = VerifyAuditLog(*path);
  if (report.read_error) return Fail("verify", report.why);
  if (args.json) {
    std::printf("%s\n", DumpJson(VerifyJson(*path, report, expect), 2).c_str());
  } else {
    PrintVerifyHuman(*path, report, expect);
  }
  const bool head_ok = expect.empty() || report.head == expect;
  return report.intact && head_ok ? kExitOk : kExitFailed;
}

int RunTail(const AuditArgs& args) {
  const auto path = LogPath(args);
  if (!path.ok()) return Fail("tail", path.status().message());
  const auto records = TailAuditRecords(*path, args.lines);
  if (!records.ok()) return Fail("tail", records.status().message());
  PrintRecords(*records, args.json);
  return kExitOk;
}

int RunShow(const AuditArgs& args) {
  const auto at = args.bundle.find('@');
  const std::string name = args.bundle.substr(0, at);
  const std::string version = at == std::string::npos ? "" : args.bundle.substr(at + 1);
  if (name.empty() || (at != std::string::npos && version.empty())) {
    return Fail("show", "expected NAME or NAME@VERSION, got \"" + args.bundle + "\"");
  }
  const auto path = LogPath(args);
  if (!path.ok()) return Fail("show", path.status().message());
  const auto records = FindBundleRecords(*path, name, version);
  if (!records.ok()) return Fail("show", records.status().message());
  if (records->empty()) {
    std::fprintf(stderr, "no audit records name %s in %s\n", args.bundle.c_str(), path->c_str());
  }
  PrintRecords(*records, args.json);
  return kExitOk;
}

// The options every audit subcommand takes: where the log is, and --json.
void AddLogOptions(CLI::App& sub, AuditArgs& args) {
  auto* config = sub.add_option("--config", args.config, "Config file (its paths.audit_log)");
  auto* file = sub.add_option("--file", args.file, "The audit log file itself");
  file->excludes(config);
  sub.add_flag("--json", args.json, "Print JSON: verify's report, or the records as JSON Lines");
}

}  // namespace

Command AuditCommand() {
  return {"audit", "Verify the audit log, or read its records", [](CLI::App& sub) {
            auto args = std::make_shared<AuditArgs>();
            auto* verify = sub.add_subcommand(
                "verify", "Check the hash chain; exit 0 intact, 1 tampered or torn, 2 unreadable");
            AddLogOptions(*verify, *args);
            verify->add_option("--expect-head", args->expect_head,
                               "Also require this SHA-256 of the last line (recorded earlier)");
            auto* tail = sub.add_subcommand("tail", "Print the last records");
            AddLogOptions(*tail, *args);
            tail->add_option("-n,--lines", args->lines, "How many records (default 20)");
            auto* show = sub.add_subcommand("show", "Print every record naming one bundle");
            AddLogOptions(*show, *args);
            show->add_option("BUNDLE", args->bundle, "NAME or NAME@VERSION")->required();
            sub.require_subcommand(1);
            return [args, verify, tail] {
              if (verify->parsed()) return RunVerify(*args);
              if (tail->parsed()) return RunTail(*args);
              return RunShow(*args);
            };
          }};
}

}  // namespace bg::cli

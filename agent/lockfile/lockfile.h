// Lockfile: a dependency lockfile of a training environment, reduced to what the gate checks.
//
// Four formats (SPEC.md "Lockfile formats"), one parser each:
//   requirements  pip-compile / uv pip compile / uv export output (requirements_txt.h)
//   uv.lock       uv's own lockfile (uv_lock.h)
//   poetry.lock   Poetry's lockfile, lock-version 1.x and 2.x (poetry_lock.h)
//   Pipfile.lock  Pipenv's JSON lockfile (pipfile_lock.h)
// The format is chosen by the file's name ("uv.lock", "poetry.lock", "Pipfile.lock",
// "*.txt"/"requirements*"), else by its content (JSON with "_meta": Pipfile.lock; TOML with
// [[package]] and [metadata] lock-version / content-hash: poetry.lock; TOML with [[package]] and
// an integer `version`: uv.lock; anything else: requirements).
//
// Each parser reports a malformed file as one lockfile-invalid Status naming the file and line
// ("requirements.lock:12: ..."). What a parser accepts but the policy may reject (unpinned,
// unhashed, a direct URL) is recorded in LockedPackage, never judged there.
//
// Thread safety: value types and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/core/status.h"
#include "agent/lockfile/pep440_version.h"

namespace bg {

enum class LockfileFormat { kRequirements, kUvLock, kPoetryLock, kPipfileLock };

// "requirements.txt", "uv.lock", "poetry.lock", "Pipfile.lock".
std::string_view LockfileFormatName(LockfileFormat format);

struct LockedPackage {
  std::string name;  // as written
  std::string key;   // PEP 503 normalized
  // The locked version as written ("2.5.1+cu121"); empty when the entry has none (a URL, a
  // path, a range). For a direct wheel URL it is read from the wheel's file name.
  std::string version;
  std::optional<Pep440Version> parsed;  // `version`, when it is PEP 440
  // One exact version from a package index. False for ranges, editable installs, paths, URLs and
  // VCS checkouts; `unpinned_why` then says which ("editable ./lib", "range >=2.0", ...).
  bool pinned = false;
  std::string unpinned_why;
  std::size_t hashes = 0;  // artifact hashes recorded for the entry
  int line = 0;            // 1-based, 0 when unknown
  std::string marker;      // environment marker, when the entry has one
  std::string group;       // "default"/"develop" (Pipfile.lock), poetry's groups; else empty
};

struct Lockfile {
  LockfileFormat format = LockfileFormat::kRequirements;
  std::string source;  // the file name used in messages
  std::vector<LockedPackage> packages;
  // The locked project itself and its workspace members (uv.lock), not dependencies.
  std::vector<std::string> projects;
};

// The format by file name alone; nullopt when the name does not say.
std::optional<LockfileFormat> LockfileFormatFromName(std::string_view path);
// The format by content (used when the name does not say).
LockfileFormat LockfileFormatFromContent(std::string_view text);

// Chooses the format (name, then content) and parses. `source`: the file's path in messages.
Result<Lockfile> ParseLockfile(std::string_view text, const std::string& source);

// Builds `parsed` from `version` and checks the name; shared by the parsers. An error (without
// a location) when the version is set but not PEP 440.
Status FinishPackage(LockedPackage& package);

}  // namespace bg

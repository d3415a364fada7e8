// The git check's options, as written in a [[checks]] table of kind "git":
//
//   [[checks]]
//   kind = "git"
//   repo = "/srv/mirrors/fraud.git"   # a clone or a bare mirror of the training repository;
//                                     # relative paths are relative to the config file
//   allowed_refs = ["refs/tags/v*", "refs/heads/main"]   # default: kDefaultAllowedRefs
//   require_clean = true              # reject bundles whose manifest says dirty = true
//   fetch = false                     # fetch every remote (libgit2) before each check
//   files_at_commit = true            # lockfile and preprocessing spec must equal the commit's
//   require_signed_commit = false     # the commit must be SSH-signed by a trusted key
//   allowed_signers = "allowed_signers"   # with it: OpenSSH's format (commit_signature.h),
//                                     # read when the config is loaded
//
// Globs are full ref names matched as git matches ref globs ('*' also crosses '/'). The default
// names version tags and the usual release branches of both a mirror (refs/heads/*, as on the
// server) and a plain clone (refs/remotes/origin/*). The order only matters for naming the ref
// that contains a commit when several refs reach it at once (point at the same commit, say):
// the first glob's wins, so a commit that is main's tip and tagged v1.2.0 is "in v1.2.0".
//
// Thread safety: plain data.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/checks/check_registry.h"
#include "agent/signature/allowed_signers.h"
#include "agent/toml/table_reader.h"

namespace bg {

inline const std::vector<std::string> kDefaultAllowedRefs = {
    "refs/tags/v*",
    "refs/heads/main",
    "refs/heads/master",
    "refs/remotes/origin/main",
    "refs/remotes/origin/master",
};

struct GitCheckOptions {
  std::string repo;  // absolute
  std::vector<std::string> allowed_refs = kDefaultAllowedRefs;
  bool require_clean = true;
  bool fetch = false;
  bool files_at_commit = true;
  bool require_signed_commit = false;
  std::shared_ptr<const AllowedSigners> allowed_signers;  // set when require_signed_commit
};

// Reads and validates the options, reporting each problem through `options.Fail` (file, line,
// key). The repository is opened once here, so that a wrong path is a config error (exit 2)
// rather than a rejected bundle. nullopt when anything was reported.
std::optional<GitCheckOptions> ReadGitCheckOptions(TableReader& options,
                                                   const CheckBuildContext& ctx);

}  // namespace bg

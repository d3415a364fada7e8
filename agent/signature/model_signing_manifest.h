// The manifest half of model_signing verification: do the signed resources describe exactly the
// files that are there?
//
// Every resource must be a file of the bundle with that SHA-256 (the walk hashed every file, so
// nothing is read twice), and every file of the bundle must be a resource, except:
//   - the signature file itself (model.sig);
//   - bundle.toml.sig, the SSH signature, which a producer may add before or after model.sig
//     (when it is a resource, it is compared like any file);
//   - files at or under an ignore path the policy allows (the check's ignore_paths: a path
//     ignores itself and everything below it, component by component, as model_signing does).
// With require_bundle_toml (the gate's rule), bundle.toml must be a resource: it lists every
// file's hash and steers every check, so an unsigned one must never pass.
//
// The signer's own serialization.ignore_paths only widen the exemptions with
// honour_signed_ignore_paths (the `signature verify` command, which verifies like
// `model_signing verify`: the signer's ignore_paths and git's files, .git/, .gitattributes,
// .github/, .gitignore, are not expected). The check does not: a file that the signer chose not
// to sign is unsigned, and only the operator may allow that.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/bundle/bundle_walk.h"
#include "agent/manifest/manifest.h"
#include "agent/signature/in_toto_statement.h"

namespace bg {

struct ResourcePolicy {
  std::vector<std::string> ignore_paths;
  std::string signature_path = kModelSignatureFileName;  // relative to the bundle; "" if outside
  bool require_bundle_toml = true;
  bool honour_signed_ignore_paths = false;
  bool ignore_git_paths = false;  // .git/, .gitattributes, .github/, .gitignore (model_signing's default)
};

struct ResourceFinding {
  std::string path;
  std::string detail;  // "not signed", "modified since signing", "signed but missing"
};

// All differences, in path order: modified, then missing, then unsigned files.
std::vector<ResourceFinding> CompareResources(const ModelSigningStatement& statement,
                                              const std::vector<WalkedFile>& files,
                                              const ResourcePolicy& policy);

// `path` equals `prefix` or lies below it ("a/b" is under "a", "ab" is not). A trailing '/' on
// `prefix` is ignored.
bool PathIsUnder(std::string_view path, std::string_view prefix);

}  // namespace bg

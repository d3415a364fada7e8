#include "agent/git/git_check_options.h"

#include <filesystem>

#include "agent/git/repository.h"

namespace bg {
namespace {

namespace fs = std::filesystem;

// Relative paths are relative to the config file's directory, as everywhere in the config.
std::string ResolveRepoPath(const std::string& path, const CheckBuildContext& ctx) {
  fs::path p(path);
  if (p.is_relative()) {
    std::error_code ec;
    const bool from_file = ctx.config != nullptr && ctx.config->source != "<defaults>";
    const fs::path base =
        from_file ? fs::absolute(ctx.config->source, ec).parent_path() : fs::current_path(ec);
    p = base / p;
  }
  return p.lexically_normal().string();
}

std::optional<std::string> ReadRepo(TableReader& options, const CheckBuildContext& ctx) {
  auto repo = options.String("repo", Presence::kRequired);
  if (!repo) return std::nullopt;
  if (repo->empty()) {
    options.Fail("repo", "must name a clone or a mirror of the training repository");
    return std::nullopt;
  }
  const std::string path = ResolveRepoPath(*repo, ctx);
  if (auto opened = OpenRepository(path); !opened.ok()) {
    options.Fail("repo", opened.status().message());
    return std::nullopt;
  }
  return path;
}

// An error message for a bad glob, or "" when it is fine.
std::string GlobProblem(const std::string& glob) {
  if (glob.empty()) return "is empty";
  if (glob.rfind("refs/", 0) != 0) {
    return "\"" + glob +
           "\" is not a full ref name (write e.g. \"refs/heads/main\" or \"refs/tags/v*\")";
  }
  return "";
}

std::optional<std::vector<std::string>> ReadAllowedRefs(TableReader& options) {
  auto globs = options.StringArray("allowed_refs", Presence::kOptional);
  if (!globs)
    return options.Has("allowed_refs") ? std::nullopt : std::optional(kDefaultAllowedRefs);
  if (globs->empty()) {
    options.Fail("allowed_refs", "is empty: no commit could ever be released");
    return std::nullopt;
  }
  bool ok = true;
  for (std::size_t i = 0; i < globs->size(); ++i) {
    const std::string problem = GlobProblem((*globs)[i]);
    if (problem.empty()) continue;
    options.Fail("allowed_refs", "item " + std::to_string(i) + ": " + problem);
    ok = false;
  }
  return ok ? globs : std::nullopt;
}

void ReadBool(TableReader& options, std::string_view key, bool* out) {
  if (auto v = options.Bool(key, Presence::kOptional)) *out = *v;
}

void ReadCommitSigning(TableReader& options, const CheckBuildContext& ctx, GitCheckOptions& out) {
  ReadBool(options, "require_signed_commit", &out.require_signed_commit);
  auto file = options.String("allowed_signers", Presence::kOptional);
  if (!out.require_signed_commit) {
    if (file) options.Fail("allowed_signers", "has no effect without require_signed_commit = true");
    return;
  }
  if (!file) {
    options.Fail("require_signed_commit", "needs allowed_signers, the file of trusted SSH keys");
    return;
  }
  auto loaded = AllowedSigners::Load(ResolveRepoPath(*file, ctx));
  if (!loaded.ok()) {
    options.Fail("allowed_signers", loaded.status().message());
    return;
  }
  out.allowed_signers = std::make_shared<const AllowedSigners>(std::move(loaded).value());
}

}  // namespace

std::optional<GitCheckOptions> ReadGitCheckOptions(TableReader& options,
                                                   const CheckBuildContext& ctx) {
  const std::size_t errors_before = options.errors()->messages().size();
  GitCheckOptions out;
  auto repo = ReadRepo(options, ctx);
  auto refs = ReadAllowedRefs(options);
  ReadBool(options, "require_clean", &out.require_clean);
  ReadBool(options, "fetch", &out.fetch);
  ReadBool(options, "files_at_commit", &out.files_at_commit);
  ReadCommitSigning(options, ctx, out);
  if (!repo || !refs || options.errors()->messages().size() != errors_before) return std::nullopt;
  out.repo = *repo;
  out.allowed_refs = *refs;
  return out;
}

}  // namespace bg

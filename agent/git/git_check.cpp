#include "agent/git/git_check.h"

#include <chrono>
#include <mutex>

#include "agent/git/allowed_refs.h"
#include "agent/git/commit_graph.h"
#include "agent/git/commit_info.h"
#include "agent/git/commit_signature.h"
#include "agent/git/committed_files.h"
#include "agent/git/fetch.h"
#include "agent/git/git_check_options.h"
#include "agent/git/git_report.h"
#include "agent/git/reachability.h"
#include "agent/git/repository.h"

namespace bg {
namespace {

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

// git's commit-graph, when the repository has a usable one; details say which it was.
std::unique_ptr<CommitGraph> OpenCommitGraph(git_repository* repo, GitReport& report) {
  auto graph = CommitGraph::Open(ObjectsDir(repo));
  if (!graph.ok()) {
    report.details["commit_graph"] = "ignored: " + graph.status().message();
    return nullptr;
  }
  if (!*graph) {
    report.details["commit_graph"] = "none";
    return nullptr;
  }
  report.details["commit_graph"] = std::to_string((*graph)->size()) + " commits in " +
                                   std::to_string((*graph)->layers()) + " layer(s)";
  return std::move(graph).value();
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

class GitCheck final : public Check {
 public:
  explicit GitCheck(GitCheckOptions options) : options_(std::move(options)) {}

  std::string_view kind() const override { return "git"; }

  CheckResult Run(const BundleContext& ctx) override {
    if (ctx.manifest == nullptr || ctx.walk == nullptr) {
      return CheckResult::Skip("git", "needs a valid manifest and a walked bundle");
    }
    GitReport report;
    report.details["repo"] = options_.repo;
    const Status status = Inspect(ctx, report);
    return status.ok() ? report.ToResult() : report.CouldNotRun(status);
  }

 private:
  Status Inspect(const BundleContext& ctx, GitReport& report);
  Status Fetch(git_repository* repo, const BundleContext& ctx, GitReport& report);
  Status CheckSignature(git_repository* repo, const CommitInfo& commit, GitReport& report) const;
  Status CheckReleased(git_repository* repo, const CommitInfo& commit, const BundleContext& ctx,
                       GitReport& report) const;
  void CheckClean(const Manifest& manifest, GitReport& report) const;
  std::string PassSummary(const CommitInfo& commit, const std::string& ref,
                          const Manifest& manifest) const;

  const GitCheckOptions options_;
  std::mutex fetch_mutex_;  // one fetch into the repository at a time
};

Status GitCheck::Inspect(const BundleContext& ctx, GitReport& report) {
  const Manifest& manifest = *ctx.manifest;
  BG_ASSIGN_OR_RETURN(RepositoryPtr repo, OpenRepository(options_.repo));
  if (options_.fetch) BG_RETURN_IF_ERROR(Fetch(repo.get(), ctx, report));
  auto commit = LookupCommit(repo.get(), manifest.source.commit);
  if (!commit.ok() && commit.status().reason() != Reason::kCommitUnknown) return commit.status();
  if (!commit.ok()) {
    report.Add(Reason::kCommitUnknown,
               commit.status().message() + "; repository " + options_.repo +
                   (options_.fetch ? ", just fetched" : ", not fetched (fetch = false)"));
    CheckClean(manifest, report);
    return Status::Ok();
  }
  report.details["commit"] = commit->ToJson();
  BG_RETURN_IF_ERROR(CheckReleased(repo.get(), *commit, ctx, report));
  CheckClean(manifest, report);
  if (options_.files_at_commit) {
    BG_RETURN_IF_ERROR(CompareCommittedFiles(repo.get(), commit->oid, manifest, *ctx.walk, report));
  }
  if (options_.require_signed_commit) BG_RETURN_IF_ERROR(CheckSignature(repo.get(), *commit, report));
  report.pass_summary =
      PassSummary(*commit, report.details.value("contained_in", std::string()), manifest);
  return Status::Ok();
}

Status GitCheck::Fetch(git_repository* repo, const BundleContext& ctx, GitReport& report) {
  std::lock_guard<std::mutex> lock(fetch_mutex_);
  const auto start = Clock::now();
  BG_ASSIGN_OR_RETURN(auto remotes, FetchRemotes(repo, ctx.cancelled));
  report.details["fetched"] = remotes;
  report.metrics["fetch_ms"] = MillisSince(start);
  return Status::Ok();
}

Status GitCheck::CheckSignature(git_repository* repo, const CommitInfo& commit,
                                GitReport& report) const {
  BG_ASSIGN_OR_RETURN(CommitSignature sig,
                      VerifyCommitSignature(repo, commit.oid, *options_.allowed_signers));
  report.details["commit_signature"] = sig.details;
  if (sig.reason != Reason::kNone) report.Add(sig.reason, sig.detail, "", sig.details);
  return Status::Ok();
}

Status GitCheck::CheckReleased(git_repository* repo, const CommitInfo& commit,
                               const BundleContext& ctx, GitReport& report) const {
  const auto start = Clock::now();
  const std::unique_ptr<CommitGraph> graph = OpenCommitGraph(repo, report);
  BG_ASSIGN_OR_RETURN(AllowedRefs refs,
                      ResolveAllowedRefs(repo, options_.allowed_refs, graph.get()));
  BG_ASSIGN_OR_RETURN(Containment found,
                      FindContainingRef(repo, graph.get(), commit.oid, refs.tips, ctx.cancelled));
  report.details["allowed_refs"] = options_.allowed_refs;
  report.metrics["refs"] = refs.tips.size();
  report.metrics["commits_walked"] = found.commits_walked;
  report.metrics["commits_read"] = found.commits_read;
  report.metrics["reachability_ms"] = MillisSince(start);
  if (found.tip) {
    report.details["contained_in"] = refs.tips[*found.tip].ref;
    return Status::Ok();
  }
  report.Add(Reason::kCommitNotReleased, "commit " + ShortId(commit.id) +
                                             " is not in the history of any allowed ref (" +
                                             std::to_string(refs.tips.size()) + " refs match " +
                                             Join(options_.allowed_refs) + ")");
  return Status::Ok();
}

void GitCheck::CheckClean(const Manifest& manifest, GitReport& report) const {
  report.details["dirty"] = manifest.source.dirty;
  if (manifest.source.dirty && options_.require_clean) {
    report.Add(Reason::kDirtyTree,
               "trained from a work tree with uncommitted changes (source.dirty = true, "
               "require_clean = true)");
  }
}

std::string GitCheck::PassSummary(const CommitInfo& commit, const std::string& ref,
                                  const Manifest& manifest) const {
  std::string s = ShortId(commit.id) + " \"" + commit.summary + "\" (" + commit.author + ", " +
                  commit.time + ") is in " + ref;
  if (manifest.source.dirty) s += "; dirty tree allowed";
  s += options_.files_at_commit ? "; lockfile and preprocessing spec match the commit"
                                : "; files not compared (files_at_commit = false)";
  if (options_.require_signed_commit) s += "; commit signed by a trusted key";
  return s;
}

}  // namespace

std::unique_ptr<Check> MakeGitCheck(TableReader& options, const CheckBuildContext& ctx) {
  auto parsed = ReadGitCheckOptions(options, ctx);
  if (!parsed) return nullptr;
  return std::make_unique<GitCheck>(std::move(*parsed));
}

}  // namespace bg

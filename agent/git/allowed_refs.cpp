#include "agent/git/allowed_refs.h"

#include <git2/errors.h>

#include <algorithm>
#include <set>

#include "agent/git/git_handles.h"
#include "agent/git/git_status.h"
#include "agent/git/object_header.h"
#include "agent/git/pack_reader.h"
#include "agent/git/repository.h"

namespace bg {
namespace {

enum class Peeled { kCommit, kNotACommit, kUnknown };

// Follows `id` through annotated tags to what they point at, from the pack entries: their
// headers say an object's type without inflating it, and only tags are inflated. kUnknown when
// the packs cannot tell (a loose object, a chain of more than 16 tags).
Peeled PeelInPacks(PackReader& packs, git_oid& id) {
  std::string raw;
  for (int hops = 0; hops < 16; ++hops) {
    const auto type = packs.TypeOf(id);
    if (!type) return Peeled::kUnknown;
    if (*type == PackType::kCommit) return Peeled::kCommit;
    if (*type != PackType::kTag) return Peeled::kNotACommit;
    if (!packs.Read(id, PackType::kTag, raw) || !ParseTagTarget(raw, id)) return Peeled::kUnknown;
  }
  return Peeled::kUnknown;
}

// The commit `ref` leads to; false when it leads to no commit. A commit-graph that has the
// id the ref records (peeled already, for a packed annotated tag) proves it is a commit without
// reading an object; else the pack entries tell; else libgit2 peels, reading the objects.
bool PeelToCommit(git_reference* ref, const CommitGraph* graph, PackReader& packs, git_oid* out) {
  const git_oid* recorded = git_reference_target_peel(ref);
  if (recorded == nullptr) recorded = git_reference_target(ref);
  if (graph != nullptr && recorded != nullptr && graph->Find(*recorded)) {
    *out = *recorded;
    return true;
  }
  if (recorded != nullptr) {
    git_oid id = *recorded;
    const Peeled peeled = PeelInPacks(packs, id);
    if (peeled != Peeled::kUnknown) {
      *out = id;
      return peeled == Peeled::kCommit;
    }
  }
  git_object* raw = nullptr;
  const int rc = git_reference_peel(&raw, ref, GIT_OBJECT_COMMIT);
  ObjectPtr object(raw);
  if (rc < 0) return false;
  *out = *git_object_id(object.get());
  return true;
}

// Every ref matching `glob`, sorted by name.
Result<std::vector<ReferencePtr>> MatchGlob(git_repository* repo, const std::string& glob) {
  git_reference_iterator* raw_iter = nullptr;
  BG_RETURN_IF_ERROR(GitStatus(git_reference_iterator_glob_new(&raw_iter, repo, glob.c_str()),
                               "listing refs matching " + glob));
  ReferenceIteratorPtr iter(raw_iter);
  std::vector<ReferencePtr> refs;
  for (;;) {
    git_reference* raw = nullptr;
    const int rc = git_reference_next(&raw, iter.get());
    if (rc == GIT_ITEROVER) break;
    BG_RETURN_IF_ERROR(GitStatus(rc, "listing refs matching " + glob));
    refs.emplace_back(raw);
  }
  std::sort(refs.begin(), refs.end(), [](const ReferencePtr& a, const ReferencePtr& b) {
    return std::string_view(git_reference_name(a.get())) < git_reference_name(b.get());
  });
  return refs;
}

}  // namespace

Result<AllowedRefs> ResolveAllowedRefs(git_repository* repo, const std::vector<std::string>& globs,
                                       const CommitGraph* graph) {
  AllowedRefs out;
  PackReader packs(ObjectsDir(repo));
  std::set<std::string, std::less<>> seen;
  for (const auto& glob : globs) {
    BG_ASSIGN_OR_RETURN(auto refs, MatchGlob(repo, glob));
    for (const auto& ref : refs) {
      std::string name = git_reference_name(ref.get());
      if (!seen.insert(name).second) continue;
      RefTip tip{std::move(name), {}};
      if (PeelToCommit(ref.get(), graph, packs, &tip.commit)) {
        out.tips.push_back(std::move(tip));
      } else {
        ++out.skipped;
      }
    }
  }
  return out;
}

}  // namespace bg

#!/usr/bin/env bash
# Benchmark: the git check on a 50,000-commit history with 5,000 tags, against git itself.
#
# Run (after building bundlegate):
#   scripts/bench/git_check_bench.sh [BUILD_DIR]        # BUILD_DIR defaults to ./build
#   COMMITS=50000 TAG_EVERY=10 RUNS=5 KEEP=1 scripts/bench/git_check_bench.sh build-git
#
# What it does:
#   1. Generates a bare repository with git fast-import (a few seconds): COMMITS commits on main,
#      a tag every TAG_EVERY commits (half annotated, half lightweight), the lockfile and the
#      preprocessing spec committed in commit 1, and an unreleased branch forking at the middle.
#   2. Writes three bundles whose manifests name: "deep" (commit 5, near the root: the walk must
#      cross the whole history), "unreleased" (the side branch: the walk must see every commit to
#      prove a negative) and "recent" (main~3, the usual case).
#   3. Times RUNS alternating rounds (scripts/bench/alternate.py: medians of wall and of CPU
#      time, ratios to the first line) of the same question asked of git and of bundlegate:
#        git is-ancestor (main)       `git merge-base --is-ancestor C refs/heads/main`
#        check, main only             `bundlegate check --json`, allowed_refs = [main]
#        git for-each-ref --contains  `git for-each-ref --contains C refs/heads/main 'refs/tags/v*'`
#        check, main + tags           `bundlegate check --json`, allowed_refs = [main, v*]
#      then prints the git check's own report for both configs: verdict, its duration inside
#      the process (no process start, no walk of the bundle), commits walked and inflated.
#   4. Does it twice: on the repository as fast-import left it ("fresh": loose refs, no
#      commit-graph: every step of a walk inflates a commit object, for git and for the check),
#      then "maintained" as `git gc` would leave a mirror (packed refs, git's commit-graph, which
#      both git and the check read: agent/git/commit_graph.h).
# Needs: git, python3, sha256sum. Nothing is timed inside the test suite; this script is the
# place for speed.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:-$here/build}" && pwd)
bundlegate=$build_dir/bin/bundlegate
commits=${COMMITS:-50000}
tag_every=${TAG_EVERY:-10}
runs=${RUNS:-5}
[ -x "$bundlegate" ] || { echo "no $bundlegate: build first (scripts/build)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bg-git-bench.XXXXXX")
if [ "${KEEP:-0}" != 1 ]; then trap 'rm -rf "$work"' EXIT; else echo "work dir: $work"; fi
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null LC_ALL=C
export GIT_AUTHOR_NAME=Ada GIT_AUTHOR_EMAIL=ada@example.com
export GIT_COMMITTER_NAME=Ada GIT_COMMITTER_EMAIL=ada@example.com
repo=$work/big.git
lockfile=$'numpy==1.26.4\ntorch==1.13.1\n'
spec=$'[resize]\nsize = 256\n'

# --- 1. the repository ---------------------------------------------------------------------
generate_history() {
  python3 - "$commits" "$tag_every" "$lockfile" "$spec" <<'PY'
import sys
n, every, lockfile, spec = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
out = sys.stdout.buffer
def data(text):
    b = text.encode(); out.write(b"data %d\n%s\n" % (len(b), b))
for i in range(1, n + 1):
    when = 1767225600 + 60 * i
    out.write(b"commit refs/heads/main\nmark :%d\n" % i)
    out.write(b"committer Ada <ada@example.com> %d +0000\n" % when)
    data("commit %d" % i)
    if i > 1: out.write(b"from :%d\n" % (i - 1))
    out.write(b"M 100644 inline counter.txt\n"); data("%d\n" % i)
    if i == 1:
        out.write(b"M 100644 inline requirements.lock\n"); data(lockfile)
        out.write(b"M 100644 inline conf/preprocess.toml\n"); data(spec)
    out.write(b"\n")
    if i % every: continue
    if (i // every) % 2:
        out.write(b"tag v%d\nfrom :%d\n" % (i, i))
        out.write(b"tagger Ada <ada@example.com> %d +0000\n" % when)
        data("v%d" % i)
    else:
        out.write(b"reset refs/tags/v%d\nfrom :%d\n\n" % (i, i))
PY
}

start=$(date +%s%N)
git init -q --bare -b main "$repo"
generate_history | git -C "$repo" fast-import --quiet
fork=$(git -C "$repo" rev-parse "main~$((commits / 2))")
side=$(git -C "$repo" commit-tree "$fork^{tree}" -p "$fork" -m "unreleased experiment" </dev/null)
git -C "$repo" update-ref refs/heads/experiment "$side"
echo "generated $commits commits, $(git -C "$repo" tag | wc -l) tags" \
  "in $(( ($(date +%s%N) - start) / 1000000 )) ms"

# --- 2. the bundles ------------------------------------------------------------------------
write_bundle() {  # write_bundle DIR COMMIT
  local dir=$1 commit=$2 f
  mkdir -p "$dir/parity"
  printf 'model\n' >"$dir/model.pt"
  printf '%s' "$lockfile" >"$dir/requirements.lock"
  printf '%s' "$spec" >"$dir/preprocess.toml"
  printf 'in\n' >"$dir/parity/inputs.safetensors"
  printf 'out\n' >"$dir/parity/expected.safetensors"
  cat >"$dir/bundle.toml" <<TOML
format = 1
name = "bench-model"
version = "1.0.0"
created = 2026-11-28T10:00:00Z

[source]
commit = "$commit"
dirty = false
lockfile_path = "requirements.lock"
preprocessing_path = "conf/preprocess.toml"

[model]
path = "model.pt"
format = "torchscript"

[dependencies]
lockfile = "requirements.lock"

[preprocessing]
version = "bench"
spec = "preprocess.toml"

[parity]
inputs = "parity/inputs.safetensors"
expected = "parity/expected.safetensors"
TOML
  for f in model.pt requirements.lock preprocess.toml parity/{inputs,expected}.safetensors; do
    printf '\n[[files]]\npath = "%s"\nsize = %s\nsha256 = "%s"\n' "$f" "$(stat -c %s "$dir/$f")" \
      "$(sha256sum "$dir/$f" | cut -d' ' -f1)" >>"$dir/bundle.toml"
  done
}

declare -A commit_of=(
  [deep]=$(git -C "$repo" rev-parse "main~$((commits - 5))")
  [unreleased]=$side
  [recent]=$(git -C "$repo" rev-parse "main~3")
)
for name in deep unreleased recent; do write_bundle "$work/$name" "${commit_of[$name]}"; done
cat >"$work/bg.toml" <<TOML
require_parity = false
[paths]
root = "var"
[[checks]]
kind = "git"
repo = "big.git"
allowed_refs = ["refs/heads/main", "refs/tags/v*"]
TOML

# --- 3. timing -----------------------------------------------------------------------------
sed 's|allowed_refs = .*|allowed_refs = ["refs/heads/main"]|' "$work/bg.toml" >"$work/main-only.toml"
alternate=$here/scripts/bench/alternate.py
git_result() {  # git_result CONFIG NAME: the git check's verdict, its own time, commits walked
  "$bundlegate" check "$work/$2" --config "$work/$1" --json 2>/dev/null | python3 -c 'import json, sys
g = [c for c in json.load(sys.stdin)["checks"] if c["check"] == "git"][0]
m = g.get("metrics", {})
print("%-5s %-24s in-check %6.1f ms, reachability %6.1f ms, %6d commits walked, %6d read" % (
    g["status"], g.get("details", {}).get("contained_in", g.get("reason", "")),
    g["duration_ms"], m.get("reachability_ms", 0), m.get("commits_walked", 0),
    m.get("commits_read", 0)))'
}

bench() {  # bench LABEL
  printf '\n== %s: %d commits, %d tags\n' "$1" "$commits" "$(git -C "$repo" tag | wc -l)"
  local name c
  for name in deep unreleased recent; do
    c=${commit_of[$name]}
    {
      printf '%s\tgit -C %q merge-base --is-ancestor %s refs/heads/main\n' \
        "git is-ancestor (main)" "$repo" "$c"
      printf '%s\t%q check %q --config %q --json\n' \
        "check, main only" "$bundlegate" "$work/$name" "$work/main-only.toml"
      printf '%s\tgit -C %q for-each-ref --contains %s refs/heads/main %q\n' \
        "git for-each-ref --contains" "$repo" "$c" 'refs/tags/v*'
      printf '%s\t%q check %q --config %q --json\n' \
        "check, main + tags" "$bundlegate" "$work/$name" "$work/bg.toml"
    } | python3 "$alternate" --runs "$runs" --title "-- $name (${c:0:12})" 2>/dev/null
    printf '  main only:   %s\n' "$(git_result main-only.toml "$name")"
    printf '  main + tags: %s\n' "$(git_result bg.toml "$name")"
  done
}

echo
echo "Compares, per bundle, the same question asked of git and of bundlegate check (whole"
echo "processes): is the commit in main (git merge-base --is-ancestor), and is it in main or any"
echo "tag v* (git for-each-ref --contains). Ratios are to git is-ancestor; cpu is user+system."
bench "fresh (loose refs, no commit-graph)"
git -C "$repo" pack-refs --all
git -C "$repo" commit-graph write --reachable 2>/dev/null
bench "maintained (packed refs, git's commit-graph)"
echo
echo "reproduce: COMMITS=$commits TAG_EVERY=$tag_every RUNS=$runs $0 $build_dir"

#!/usr/bin/env bash
# Integrity-check throughput against `openssl dgst -sha256` on the same bytes, in one run.
#
#   scripts/bench/hash_throughput.sh [SIZE_MIB] [RUNS] [SMALL_FILES] [SMALL_KIB]
#                                    (defaults: 1024, 5, 2000, 256)
#
# Builds two bundles of random bytes (page cache warm, so this measures hashing and the walk,
# not the disk):
#   big    one SIZE_MIB file
#   many   SMALL_FILES files of SMALL_KIB each, in 20 directories
# and times, in alternating rounds (scripts/bench/alternate.py: medians of wall and CPU time,
# ratios to openssl), for each:
#   openssl                `openssl dgst -sha256` over the same files (one process, in order)
#   check, workers = 1     `bundlegate check` with an integrity-only config, hashing in the
#                          walk's thread
#   check, workers = N     the same with workers = N (default: the number of CPUs, at least 2):
#                          the files are hashed on up to N threads while the walk goes on
# The goal (issue 10): bundlegate at least 0.9x openssl's speed on one file (a wall ratio of
# at most 1.11x), and faster than it on many files where there are cores to spare.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
size_mib=${1:-1024}
runs=${2:-5}
small_files=${3:-2000}
small_kib=${4:-256}
workers=${WORKERS:-$(nproc)}
[ "$workers" -ge 2 ] || workers=2
bin=${BUNDLEGATE_BIN:-$here/build/bin/bundlegate}
[ -x "$bin" ] || "$here/scripts/build" >/dev/null

work=$(mktemp -d /tmp/bundlegate-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT

# make_bundle DIR: writes bundle.toml for the files already in DIR (integrity-only checks).
make_bundle() {
  python3 - "$1" <<'PY'
import hashlib, os, sys
root = sys.argv[1]
files = []
for dirpath, _, names in os.walk(root):
    for n in (n for n in names if n != "bundle.toml"):
        p = os.path.join(dirpath, n)
        rel = os.path.relpath(p, root)
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        files.append((rel, os.path.getsize(p), h.hexdigest()))
files.sort()
model = files[0][0]
with open(os.path.join(root, "bundle.toml"), "w") as out:
    out.write('format = 1\nname = "bench"\nversion = "1"\ncreated = 2026-11-28T10:00:00Z\n'
              '[source]\ncommit = "%s"\ndirty = false\n' % ("a" * 40) +
              'lockfile_path = "x"\npreprocessing_path = "y"\n'
              '[model]\npath = "%s"\nformat = "torchscript"\n' % model +
              '[dependencies]\nlockfile = "%s"\n[preprocessing]\nversion = "v1"\nspec = "%s"\n'
              '[parity]\ninputs = "%s"\nexpected = "%s"\n' % (model, model, model, model))
    for rel, size, digest in files:
        out.write('[[files]]\npath = "%s"\nsize = %d\nsha256 = "%s"\n' % (rel, size, digest))
PY
}

mkdir -p "$work/big" "$work/many"
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$work/big/model.pt"
for ((i = 0; i < small_files; i++)); do
  d=$work/many/d$((i % 20))
  mkdir -p "$d"
  head -c $((small_kib * 1024)) /dev/urandom >"$d/f$i.bin"
done
make_bundle "$work/big"
make_bundle "$work/many"
for w in 1 "$workers"; do
  printf 'require_parity = false\nworkers = %d\n[paths]\nroot = "%s/root"\n' "$w" "$work" \
    >"$work/w$w.toml"
done
(cd "$work/many" && find . -name '*.bin' | sort >"$work/many.list")
cat "$work/big/model.pt" >/dev/null
find "$work/many" -type f -exec cat {} + >/dev/null  # warm the page cache
for name in big many; do  # both must pass, or the timing means nothing
  "$bin" check "$work/$name" --config "$work/w1.toml" >/dev/null ||
    { echo "bundlegate check $name failed" >&2; exit 1; }
done

echo "== hashing: bundlegate check (integrity only) against openssl dgst -sha256, page cache warm"
{
  printf 'openssl\topenssl dgst -sha256 %q\n' "$work/big/model.pt"
  printf 'check, workers = 1\t%q check %q --config %q\n' "$bin" "$work/big" "$work/w1.toml"
  printf 'check, workers = %d\t%q check %q --config %q\n' "$workers" "$bin" "$work/big" \
    "$work/w$workers.toml"
} | python3 "$here/scripts/bench/alternate.py" --runs "$runs" \
  --title "-- one file of $size_mib MiB"
{
  printf 'openssl\tcd %q && xargs openssl dgst -sha256 < %q\n' "$work/many" "$work/many.list"
  printf 'check, workers = 1\t%q check %q --config %q\n' "$bin" "$work/many" "$work/w1.toml"
  printf 'check, workers = %d\t%q check %q --config %q\n' "$workers" "$bin" "$work/many" \
    "$work/w$workers.toml"
} | python3 "$here/scripts/bench/alternate.py" --runs "$runs" \
  --title "-- $small_files files of $small_kib KiB ($((small_files * small_kib / 1024)) MiB)"
echo "speed ratio = 1 / wall ratio (>= 0.9 is the goal on one file)"
echo "reproduce: WORKERS=$workers $0 $size_mib $runs $small_files $small_kib"

#!/usr/bin/env bash
# Integrity-check throughput against `openssl dgst -sha256`, on the same 1 GiB file, in one run.
#
#   scripts/bench/hash_throughput.sh [SIZE_MIB] [REPEATS]      (defaults: 1024, 5)
#
# Builds a bundle around one SIZE_MIB file of random bytes, warms the page cache, then times,
# alternately, REPEATS runs of `openssl dgst -sha256 FILE` and of `bundlegate check BUNDLE` (whose
# integrity check streams every file through SHA-256 with OpenSSL's EVP). Prints each median and
# the ratio openssl_time / bundlegate_time (1.0 = as fast as openssl; goal >= 0.9). Both read
# from the page cache, so this measures hashing and the walk, not the disk.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
size_mib=${1:-1024}
repeats=${2:-5}
bin=${BUNDLEGATE_BIN:-$here/build/bin/bundlegate}
[ -x "$bin" ] || "$here/scripts/build" >/dev/null

work=$(mktemp -d /tmp/bundlegate-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
bundle=$work/bundle
mkdir -p "$bundle"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$bundle/model.pt"
for f in requirements.lock preprocess.toml inputs.safetensors expected.safetensors; do
  echo "$f" > "$bundle/$f"
done
{
  cat <<TOML
format = 1
name = "bench"
version = "1"
created = 2026-11-28T10:00:00Z
[source]
commit = "$(printf 'a%.0s' {1..40})"
dirty = false
lockfile_path = "requirements.lock"
preprocessing_path = "preprocess.toml"
[model]
path = "model.pt"
format = "torchscript"
[dependencies]
lockfile = "requirements.lock"
[preprocessing]
version = "v1"
spec = "preprocess.toml"
[parity]
inputs = "inputs.safetensors"
expected = "expected.safetensors"
TOML
  for f in model.pt requirements.lock preprocess.toml inputs.safetensors expected.safetensors; do
    printf '[[files]]\npath = "%s"\nsize = %d\nsha256 = "%s"\n' "$f" "$(stat -c %s "$bundle/$f")" \
      "$(sha256sum "$bundle/$f" | cut -d' ' -f1)"
  done
} > "$bundle/bundle.toml"
printf 'require_parity = false\n[paths]\nroot = "%s/root"\n' "$work" > "$work/bg.toml"

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {print e - s}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cat "$bundle/model.pt" > /dev/null  # warm the page cache
"$bin" check "$bundle" --config "$work/bg.toml" >/dev/null
openssl_times=() bg_times=()
for _ in $(seq "$repeats"); do
  openssl_times+=("$(seconds openssl dgst -sha256 "$bundle/model.pt")")
  bg_times+=("$(seconds "$bin" check "$bundle" --config "$work/bg.toml")")
done
o=$(printf '%s\n' "${openssl_times[@]}" | median)
b=$(printf '%s\n' "${bg_times[@]}" | median)
echo "file: ${size_mib} MiB, ${repeats} runs each, medians"
awk -v o="$o" -v b="$b" -v m="$size_mib" 'BEGIN {
  printf "openssl dgst -sha256: %.3f s (%.0f MiB/s)\n", o, m / o
  printf "bundlegate check:     %.3f s (%.0f MiB/s)\n", b, m / b
  printf "ratio (openssl time / bundlegate time): %.3f\n", o / b
}'

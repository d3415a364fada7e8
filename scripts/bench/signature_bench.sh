#!/usr/bin/env bash
# Signature verification of a 1 GiB bundle, against hashing its files alone, in one run.
#
#   scripts/bench/signature_bench.sh [SIZE_MIB] [REPEATS]      (defaults: 1024, 5)
#
# Builds a bundle around one SIZE_MIB file of random bytes (plus the small files a bundle has),
# signs it both ways (model.sig: model_signing's key method, ECDSA P-384, by the Python producer;
# bundle.toml.sig: ssh-keygen -Y sign with an Ed25519 key), warms the page cache, then times,
# alternately, REPEATS runs each of:
#   hash       bundlegate check, no [[checks]]: manifest + integrity (every file through SHA-256)
#   ssh        the same plus the signature check, formats = ["ssh"]
#   model_sig  the same plus the signature check, formats = ["model_signing"]
#   cli_model  bundlegate signature verify --public-key (walks and hashes on its own)
# and prints each median and its ratio to `hash` (1.00 = the signature costs nothing beyond the
# hashing the gate does anyway: the check reuses the walk's digests). Page cache, not disk.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
size_mib=${1:-1024}
repeats=${2:-5}
bin=${BUNDLEGATE_BIN:-$here/build/bin/bundlegate}
[ -x "$bin" ] || "$here/scripts/build" >/dev/null

work=$(mktemp -d /tmp/bundlegate-sigbench-XXXXXX)
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

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$work/release.pem" 2>/dev/null
openssl pkey -in "$work/release.pem" -pubout -out "$work/release.pub.pem"
ssh-keygen -q -t ed25519 -N '' -C bench -f "$work/id_ed25519"
echo "bench@acme.example $(cut -d' ' -f1,2 "$work/id_ed25519.pub")" > "$work/allowed_signers"
/usr/bin/python3 "$here/scripts/bundlegate_sign.py" "$bundle" --ssh-key "$work/id_ed25519" \
  --sign-key "$work/release.pem" >/dev/null

config() {  # NAME [CHECK TABLE]
  printf 'require_parity = false\n[paths]\nroot = "%s/root"\n%s\n' "$work" "${2:-}" > "$work/$1.toml"
}
config hash
config ssh "[[checks]]
kind = \"signature\"
formats = [\"ssh\"]
allowed_signers = \"$work/allowed_signers\""
config model_sig "[[checks]]
kind = \"signature\"
formats = [\"model_signing\"]
trusted_keys = [\"$work/release.pub.pem\"]"

seconds() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN {print e - s}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cat "$bundle/model.pt" > /dev/null  # warm the page cache
for c in hash ssh model_sig; do "$bin" check "$bundle" --config "$work/$c.toml" >/dev/null; done
"$bin" signature verify "$bundle" --public-key "$work/release.pub.pem" >/dev/null
declare -A times
for _ in $(seq "$repeats"); do
  for c in hash ssh model_sig; do
    times[$c]+="$(seconds "$bin" check "$bundle" --config "$work/$c.toml") "
  done
  times[cli_model]+="$(seconds "$bin" signature verify "$bundle" --public-key "$work/release.pub.pem") "
done
base=$(printf '%s\n' ${times[hash]} | median)
echo "bundle: ${size_mib} MiB (one model.pt + 5 small files), ${repeats} alternating runs each, medians"
for c in hash ssh model_sig cli_model; do
  m=$(printf '%s\n' ${times[$c]} | median)
  awk -v c="$c" -v m="$m" -v b="$base" -v s="$size_mib" \
    'BEGIN { printf "%-10s %7.3f s  %6.0f MiB/s  ratio to hash %.2f\n", c, m, s / m, m / b }'
done
echo "reproduce: scripts/bench/signature_bench.sh $size_mib $repeats"

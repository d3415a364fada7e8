#!/usr/bin/env bash
# The systemd unit, statically: `systemd-analyze verify` accepts it, and its exposure score under
# `systemd-analyze security --offline=yes` stays at or below 2.0 (lower is better). Whether the
# product works under it is tests/system/container_test.sh's business (a real systemd).
#   systemd_unit_test.sh SOURCE_DIR BUNDLEGATE_BINARY
set -euo pipefail
src=$1
bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# verify wants the ExecStart binaries to exist: point them at the build's.
sed "s|/usr/bin/bundlegate|$bin|g" "$src/systemd/bundlegate.service" > "$tmp/bundlegate.service"
# --man=no: the man pages of Documentation= are the package's, not installed here.
out=$(systemd-analyze verify --man=no "$tmp/bundlegate.service" 2>&1 || true)
if [ -n "$out" ]; then
  echo "systemd-analyze verify complained:"; echo "$out"; exit 1
fi
score=$(systemd-analyze security --offline=yes "$tmp/bundlegate.service" 2>/dev/null |
        sed -n 's/.*Overall exposure level for bundlegate.service: \([0-9.]*\).*/\1/p')
echo "exposure: ${score:-unknown}"
[ -n "$score" ] || { echo "no exposure score"; exit 1; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { echo "exposure $score > 2.0"; exit 1; }
for f in bundlegate.sysusers bundlegate.tmpfiles; do
  [ -s "$src/systemd/$f" ] || { echo "missing systemd/$f"; exit 1; }
done

#!/usr/bin/env bash
# Makes the Debian package from a built tree and checks it: CPack into
# BUILD_DIR/bundlegate_<version>_amd64.deb, then lintian (failing on any error or warning that
# packaging/deb/lintian-overrides does not justify) and the package's contents: every file the
# product needs, a man page for every subcommand, the conffile, stripped binaries, the Depends
# that shlibdeps found (LibTorch among them), maintainer scripts that parse.
#   packaging/make_deb.sh BUILD_DIR       (scripts/package builds first, then runs this)
set -euo pipefail
build=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
fail() { echo "make_deb: $*" >&2; exit 1; }

cd "$build"
rm -f bundlegate_*_amd64.deb
cpack -G DEB > cpack.log 2>&1 || { cat cpack.log; fail "cpack failed"; }
deb=$(ls bundlegate_*_amd64.deb)
echo "$build/$deb: $(du -k "$deb" | cut -f1) KiB"

contents=$(dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|')
for path in /usr/bin/bundlegate /usr/lib/bundlegate/plugins/bundlegate-check-torchscript \
            /etc/bundlegate/bundlegate.toml /lib/systemd/system/bundlegate.service \
            /usr/lib/sysusers.d/bundlegate.conf /usr/lib/tmpfiles.d/bundlegate.conf \
            /usr/share/doc/bundlegate/README.md /usr/share/doc/bundlegate/copyright \
            /usr/share/doc/bundlegate/changelog.gz /usr/share/man/man1/bundlegate.1.gz; do
  grep -qx "$path" <<< "$contents" || fail "$deb lacks $path"
done
grep -q '^/usr/bin/bundlegate-check' <<< "$contents" && fail "a plugin is on PATH (/usr/bin)"
# A page per subcommand, at every depth, as --help lists them.
bin=$build/bin/bundlegate
pages() {
  echo "bundlegate${*:+-$(echo "$*" | tr ' ' -)}"
  local c
  for c in $("$bin" "$@" --help | awk '/^Subcommands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on = 0}'); do
    pages "$@" "$c"
  done
}
for page in $(pages); do
  grep -qx "/usr/share/man/man1/$page.1.gz" <<< "$contents" || fail "no man page for $page"
done
ctl=$(mktemp -d)
trap 'rm -rf "$ctl"' EXIT
dpkg-deb -e "$deb" "$ctl"
grep -qx /etc/bundlegate/bundlegate.toml "$ctl/conffiles" || fail "the config is not a conffile"
for s in postinst prerm postrm; do
  [ -x "$ctl/$s" ] || fail "no executable $s"
  sh -n "$ctl/$s" || fail "$s does not parse"
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in systemd libtorch libgit2 libssl3 libsystemd0; do
  grep -q "$d" <<< "$depends" || fail "Depends lacks $d: $depends"
done
dpkg-deb -x "$deb" "$ctl/tree"
for b in usr/bin/bundlegate usr/lib/bundlegate/plugins/bundlegate-check-torchscript; do
  readelf -S "$ctl/tree/$b" | grep -q '\.debug_info' && fail "$b is not stripped"
done
# The packaged config is valid (with the plugin found in the build tree).
sed "s|^plugin_dirs = .*|plugin_dirs = [\"$build/bin\"]|" "$ctl/tree/etc/bundlegate/bundlegate.toml" > "$ctl/config.toml"
"$bin" config check --config "$ctl/config.toml" > /dev/null || fail "the packaged config does not pass config check"
grep -q '^kind = "torchscript"' "$ctl/config.toml" || fail "the packaged config has no parity check"

if command -v lintian >/dev/null; then
  # --fail-on: errors and warnings (lintian 2.116); info and pedantic tags are printed only.
  lintian --display-info --pedantic --fail-on error,warning "$deb" 2>&1 | sed '/^running with root privileges/d' ||
    fail "lintian: fix the tags above or justify each in packaging/deb/lintian-overrides"
  echo "lintian: no errors or warnings"
else
  fail "lintian is not installed (scripts/bootstrap)"
fi

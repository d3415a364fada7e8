#!/usr/bin/env bash
# The unit under a real systemd. Boots a minimal Debian tree in a systemd-nspawn container
# (made with mmdebstrap from the apt sources this machine uses, cached between runs outside the
# checkout), installs the .deb the package test built (build/bundlegate_<version>_amd64.deb)
# and checks, on the shipped unit, config and maintainer scripts:
#   - install creates the users, the root (modes, the inbox's default ACL) and leaves the
#     service disabled and stopped; the exposure of `systemd-analyze security` is <= 2.0;
#   - `systemctl start` goes through activating and is active only once READY=1 came;
#   - bundles written by the Python producer (scripts/bundlegate_pack.py) as a member of group
#     bundlegate with umask 022 are taken: [inference] threads = 4 (needs /proc/cpuinfo) and a
#     resnet18 (oneDNN's JIT needs W+X memory) are promoted, a perturbed model is rejected as
#     parity-mismatch, and its REJECTED.json shows the plugin sandbox's layers applied under
#     the unit's hardening (network namespace, read-only bundle mount);
#   - `systemctl reload` fails on an invalid config and on one the agent refuses, keeping the
#     running agent and its config, and succeeds on a good one;
#   - a stuck event loop (SIGSTOP) is killed by the watchdog and the unit restarted;
#   - reinstalling (an upgrade) restarts a running agent; `systemctl stop` drains: the bundle
#     being checked is finished or returned to the inbox, the audit log says "stopped" and
#     verifies; purge keeps the data.
#   - journald's structured fields (BUNDLEGATE_REASON=...) where the agent sends them.
#
#   container_test.sh SOURCE_DIR BUILD_DIR
# Exit 0 passed, 1 failed, 77 skipped (with the reason), as ctest's SKIP_RETURN_CODE.
# Environment: BUNDLEGATE_TEST_CACHE (default /var/cache/bundlegate-test), the cached trees;
# BUNDLEGATE_CONTAINER_TIMEOUT_S (default 1200), after which the container is killed whatever
# happens to this script; BUNDLEGATE_TEST_APT_SOURCES, an apt sources file to use instead of
# the machine's.
set -euo pipefail
src=$(realpath "$1")
build=$(realpath "$2")
cache=${BUNDLEGATE_TEST_CACHE:-/var/cache/bundlegate-test}
budget=${BUNDLEGATE_CONTAINER_TIMEOUT_S:-1200}
t0=$SECONDS
base="" root="" phome="" nspawn_pid="" leader="" registered=0 machine="bundlegate-test-$$"
logs=$(mktemp -d /tmp/bundlegate-container-logs.XXXXXX)

step() { printf '[%4ds] %s\n' $((SECONDS - t0)) "$*"; }
skip() { echo "SKIPPED: $*"; exit 77; }
dump_logs() {
  [ -n "$leader" ] || return 0
  echo "--- journal of bundlegate.service (last 60 lines)"
  inside journalctl -u bundlegate --no-pager -n 60 2>&1 || true
  echo "--- failed units"
  inside systemctl --failed --no-pager 2>&1 || true
}
fail() { echo "FAILED: $*"; dump_logs; exit 1; }
# grep that reads all its input: `| grep -q` under pipefail fails when the writer gets SIGPIPE.
matches() { grep "$@" > /dev/null; }
check() {  # check "what" command...: runs the command, fails the test with "what" if it fails
  local what=$1; shift
  "$@" || fail "$what"
}

# ---- Can this machine do it at all? ----
[ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn boots the container)"
for tool in systemd-nspawn mmdebstrap nsenter setpriv dpkg-deb; do
  command -v "$tool" >/dev/null || skip "$tool is not installed (scripts/bootstrap installs it)"
done
unshare --mount --pid --net --uts --ipc --fork true 2>/dev/null ||
  skip "this machine does not let root create namespaces (an unprivileged container?): no nspawn"
/usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null ||
  skip "the host's /usr/bin/python3 lacks torch/torchvision (the producer makes the bundles)"
. /etc/os-release
[ "${ID:-}" = debian ] && [ -n "${VERSION_CODENAME:-}" ] || skip "not a Debian host: no apt source to build the tree from"
deb=$(ls "$build"/bundlegate_*_amd64.deb 2>/dev/null | head -n1 || true)
[ -n "$deb" ] || fail "no $build/bundlegate_*_amd64.deb (the package test, packaging/make_deb.sh, makes it)"

inside() {  # a command in the container, as root, with a clean environment
  nsenter --target "$leader" --all -- /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null || true  # timeout passes it on: nspawn halts the container
    for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
    [ -n "$leader" ] && kill -KILL "$leader" 2>/dev/null || true  # PID 1: the whole namespace
    kill -KILL "$nspawn_pid" 2>/dev/null || true
    wait "$nspawn_pid" 2>/dev/null || true
  fi
  [ $registered -eq 1 ] && machinectl terminate "$machine" >/dev/null 2>&1 || true
  [ -n "$base" ] && rm -rf --one-file-system "$base"
  [ -n "$phome" ] && rm -rf "$phome"
  rm -rf "$logs"
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- The Debian tree: cached, keyed by everything that goes into it. ----
sources=()
if [ -n "${BUNDLEGATE_TEST_APT_SOURCES:-}" ]; then
  sources=("$BUNDLEGATE_TEST_APT_SOURCES")
else
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && grep -qE '^[[:space:]]*(deb |Types:)' "$f" && sources+=("$f")
  done
fi
[ ${#sources[@]} -gt 0 ] || skip "no apt sources on this machine"
# systemd and dbus to boot, acl to read the inbox's ACL back, and the package's Depends (no
# procps: the unit must not need it).
base=(systemd systemd-sysv dbus acl)
depends=$(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/[[:space:]]//g' | grep -v '^$')
packages=$(printf '%s\n' "${base[@]}" $depends | sort -u | paste -sd, -)
key=$( { echo "rootfs v1 apt $VERSION_CODENAME $(dpkg --print-architecture) $packages"; cat "${sources[@]}"; } |
       sha256sum | cut -c1-16)
tree="$cache/rootfs-$key.tar"
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$tree" ] || [ ! -s "$tree" ]; then
  step "building the Debian tree with mmdebstrap ($packages) into $tree"
  built=$SECONDS
  if ! timeout 1500 mmdebstrap --variant=apt --format=tar --include="$packages" "$VERSION_CODENAME" "$tree.tmp" \
       "${sources[@]}" > "$logs/mmdebstrap.log" 2>&1; then
    rm -rf --one-file-system "$tree.tmp"
    tail -n 15 "$logs/mmdebstrap.log"
    skip "mmdebstrap could not build the tree (no apt mirror reachable, and no cached $tree)"
  fi
  mv "$tree.tmp" "$tree"
  step "tree built in $((SECONDS - built)) s ($(du -h "$tree" | cut -f1))"
  find "$cache" -maxdepth 1 -name 'rootfs-*.tar' ! -name "rootfs-$key.tar" -mtime +14 -delete
else
  step "cached Debian tree $tree"
fi
touch "$tree"
flock -u 9

# ---- Boot it. ----
# Trees of runs killed outright (past the budget, nothing can still use them) go first.
find /var/tmp -maxdepth 1 -name 'bundlegate-container.*' -mmin +$((budget / 60 + 30)) \
  -exec rm -rf --one-file-system {} + 2>/dev/null || true
# A fresh copy of the tree on the machine's own filesystem (not an overlay: the agent and the
# producer must see a filesystem like production's, ACLs included).
base=$(mktemp -d /var/tmp/bundlegate-container.XXXXXX)
root=$base/root
mkdir "$root"
chmod 755 "$base" "$root"
tar -C "$root" -xf "$tree"
cp "$deb" "$root/root/bundlegate.deb"
args=(--quiet --boot --private-network --console=passive -D "$root" -M "$machine")
if [ -d /run/systemd/system ] && command -v machinectl >/dev/null; then
  registered=1  # a host run by systemd: the container is a machine (machinectl terminate)
else
  args+=(--register=no --keep-unit)
fi
descends_from() {  # descends_from PID ANCESTOR
  local p=$1
  while [ -n "$p" ] && [ "$p" -gt 1 ]; do
    [ "$p" = "$2" ] && return 0
    p=$(awk '/^PPid:/ {print $2}' "/proc/$p/status" 2>/dev/null)
  done
  return 1
}
step "booting the container ($machine, no network)"
# setsid: its own session, so that nothing signalling this script's group reaches it; timeout:
# the container goes at the budget's end even if this script is killed without its trap.
setsid timeout --kill-after=20 "$budget" systemd-nspawn "${args[@]}" > "$logs/console.log" 2>&1 &
nspawn_pid=$!
for _ in $(seq 300); do
  for p in $(pgrep -x systemd || true); do  # PID 1 of a pid namespace, below our nspawn
    grep -qE '^NSpid:.*[[:space:]]1$' "/proc/$p/status" 2>/dev/null || continue
    descends_from "$p" "$nspawn_pid" && leader=$p
  done
  [ -n "$leader" ] && break
  kill -0 "$nspawn_pid" 2>/dev/null || { cat "$logs/console.log"; fail "systemd-nspawn exited"; }
  sleep 0.2
done
[ -n "$leader" ] || fail "the container's init did not appear"
state=""
for _ in $(seq 360); do  # until systemd answers (its socket appears some time after PID 1 does)
  state=$(timeout 30 nsenter --target "$leader" --all -- systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded|maintenance|stopping) break ;; esac
  kill -0 "$nspawn_pid" 2>/dev/null || break
  sleep 0.5
done
case "$state" in
  running) ;;
  degraded) step "boot: degraded ($(inside systemctl --failed --no-legend --plain | awk '{print $1}' | paste -sd' ' -))" ;;
  *) cat "$logs/console.log" | tail -n 30; fail "the container did not finish booting (state: ${state:-none})" ;;
esac
step "booted (systemd $(inside systemctl --version | awk 'NR==1 {print $2}'), $state"
cgroupfs=$(inside stat -fc %T /sys/fs/cgroup)

# ---- Install. ----
start_ns=$(date +%s%N)
inside dpkg -i /root/bundlegate.deb > "$logs/dpkg.log" 2>&1 || { cat "$logs/dpkg.log"; fail "dpkg -i failed"; }
install_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
step "installed $(basename "$deb") ($(du -k "$deb" | cut -f1) KiB) in $install_ms ms"
grep -q "installed, not started" "$logs/dpkg.log" || fail "postinst did not say the service is not started"
check "a fresh install must not enable the unit" test "$(inside systemctl is-enabled bundlegate || true)" = disabled
check "a fresh install must not start the agent" test "$(inside systemctl is-active bundlegate || true)" = inactive
inside dpkg-query -W -f='${Conffiles}\n' bundlegate | matches '/etc/bundlegate/bundlegate.toml' ||
  fail "/etc/bundlegate/bundlegate.toml is not a conffile"
for page in bundlegate bundlegate-run bundlegate-reload bundlegate-audit-verify; do
  check "no man page $page" test -s "$root/usr/share/man/man1/$page.1.gz"
done
check "no plugin in /usr/lib/bundlegate/plugins" test -x "$root/usr/lib/bundlegate/plugins/bundlegate-check-torchscript"
IFS=: read -r _ _ _ _ _ plugin_home plugin_shell < <(inside getent passwd bundlegate-plugin) ||
  fail "no user bundlegate-plugin"
check "bundlegate-plugin must have no home" test "$plugin_home" = /nonexistent
check "bundlegate-plugin must not log in" test "$plugin_shell" = /usr/sbin/nologin
inside id -nG bundlegate-plugin | tr ' ' '\n' | matches -x bundlegate && fail "bundlegate-plugin must not be in group bundlegate"
for entry in ":751:bundlegate:bundlegate" "/inbox:2770:bundlegate:bundlegate" "/work:700:bundlegate:bundlegate" \
             "/serving:755:bundlegate:bundlegate" "/quarantine:750:bundlegate:bundlegate"; do
  dir=/var/lib/bundlegate${entry%%:*}
  got=$(inside stat -c '%a:%U:%G' "$dir")
  check "$dir is $got, not ${entry#*:}" test "$got" = "${entry#*:}"
done
inside getfacl -p /var/lib/bundlegate/inbox 2>/dev/null | matches '^default:group:bundlegate:rwx' ||
  fail "inbox/ has no default ACL for group bundlegate"

# ---- Start: active only once READY=1 came. ----
inside systemctl start --no-block bundlegate
states=""
for _ in $(seq 1200); do
  s=$(inside systemctl show -p ActiveState -p SubState --value bundlegate | paste -sd/ -)
  [ "${states##* }" = "$s" ] || states="$states $s"
  case $s in active/*|failed/*|inactive/dead) [ "${states# }" != "$s" ] && break ;; esac
  sleep 0.05
done
step "start: states seen:$states"
case "$states" in *"activating/start"*" active/running"*) ;; *) fail "not activating, then active (seen:$states)" ;; esac
check "the unit is not Type=notify" test "$(inside systemctl show -p Type --value bundlegate)" = notify
status_text=$(inside systemctl show -p StatusText --value bundlegate)
check "no STATUS= from the agent" test -n "$status_text"
step "active, STATUS=$status_text"
exposure=$(inside systemd-analyze security --no-pager bundlegate 2>/dev/null |
           sed -n 's/.*Overall exposure level for bundlegate.service: \([0-9.]*\).*/\1/p')
step "systemd-analyze security: exposure $exposure"
[ -n "$exposure" ] || fail "no exposure score"
awk -v s="$exposure" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $exposure > 2.0"

# ---- A producer in group bundlegate, umask 022, drops bundles. ----
inside systemd-sysusers --inline 'u producer - "bundle producer" /nonexistent' 'm producer bundlegate' >/dev/null 2>&1
puid=$(inside id -u producer)
bgid=$(inside getent group bundlegate | cut -d: -f3)
phome=$(mktemp -d /tmp/bundlegate-producer.XXXXXX)
chown "$puid" "$phome"
inbox="$root/var/lib/bundlegate/inbox"
audit="$root/var/lib/bundlegate/audit.jsonl"
produce() {  # the producer, on the host (its torch), writing into the container's inbox
  setpriv --reuid="$puid" --regid="$bgid" --groups="$bgid" --inh-caps=-all \
    env -i HOME="$phome" PATH=/usr/bin:/bin /bin/sh -c 'umask 022; exec /usr/bin/python3 "$@"' sh \
    "$src/tests/system/make_container_bundles.py" "$inbox" "$@" > "$logs/producer.log" 2>&1 ||
    { cat "$logs/producer.log"; fail "the producer failed"; }
}
decision() {  # decision NAME: "promoted" or "rejected <reason>" once the audit log has it
  python3 - "$audit" "$1" <<'EOF'
import json, sys
path, name = sys.argv[1], sys.argv[2]
try:
    lines = open(path).read().splitlines()
except OSError:
    sys.exit(0)
for line in lines:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("name") == name and r.get("event") in ("promoted", "rejected"):
        print(r["event"], r.get("reason", ""))
EOF
}
wait_decision() {  # wait_decision NAME TIMEOUT_S
  local d=""
  for _ in $(seq $(($2 * 2))); do
    d=$(decision "$1" | tail -n1)
    [ -n "$d" ] && { echo "$d"; return 0; }
    sleep 0.5
  done
  echo "none"
}
step "producer (uid $puid, group bundlegate, umask 022) drops threads, convnet, perturbed"
produce threads convnet perturbed
step "producer done"
for b in threads:promoted convnet:promoted "perturbed:rejected parity-mismatch"; do
  got=$(wait_decision "${b%%:*}" 300)
  step "${b%%:*}: $got"
  [ "$got" = "${b#*:}" ] || [ "$got" = "${b#*:} " ] || fail "${b%%:*}: expected ${b#*:}, got $got"
done
rejected=$(ls -d "$root"/var/lib/bundlegate/quarantine/perturbed@1.0.0.*/REJECTED.json | head -n1)
python3 - "$rejected" <<'EOF' || fail "the plugin sandbox lost a layer under the unit (above)"
import json, sys
report = json.load(open(sys.argv[1]))
found = []
def walk(node):
    if isinstance(node, dict):
        if isinstance(node.get("isolation"), dict):
            found.append(node["isolation"])
        for v in node.values():
            walk(v)
    elif isinstance(node, list):
        for v in node:
            walk(v)
walk(report)
if not found:
    sys.exit("no isolation report in " + sys.argv[1])
iso = found[0]
print("    plugin isolation under the unit:", json.dumps(iso, sort_keys=True))
missing = [k for k in ("network_namespace", "read_only_mount") if iso.get(k) is not True]
off = [k for k, v in iso.items() if v is False and k not in missing]
if off:
    print("    note: layers not applied here:", ", ".join(off))
if missing:
    sys.exit("not applied: " + ", ".join(missing))
EOF

# ---- journald's structured fields (the ops branch adds them; asserted once they exist). ----
if [ -n "$(inside journalctl -u bundlegate -F BUNDLEGATE_EVENT 2>/dev/null)" ]; then
  n=$(inside journalctl -u bundlegate BUNDLEGATE_REASON=parity-mismatch -o cat --no-pager | wc -l)
  [ "$n" -ge 1 ] || fail "journalctl BUNDLEGATE_REASON=parity-mismatch finds nothing"
  inside journalctl -u bundlegate BUNDLEGATE_NAME=perturbed -o cat --no-pager | matches . ||
    fail "journalctl BUNDLEGATE_NAME=perturbed finds nothing"
  step "journal fields: BUNDLEGATE_REASON=parity-mismatch finds $n line(s)"
else
  step "journal fields: the agent sends no BUNDLEGATE_* fields yet (not checked)"
fi

# ---- Reload: refused configs keep the running one. ----
config=/etc/bundlegate/bundlegate.toml
cp "$root$config" "$logs/good.toml"
pid=$(inside systemctl show -p MainPID --value bundlegate)
reloads_ok() { grep -c '"event":"config-reloaded","prev":"[0-9a-f]*","ok":true' "$audit" || true; }
records() { wc -l < "$audit"; }
before=$(records)
printf 'bogus_key = 1\n' | cat - "$logs/good.toml" > "$root$config"
if inside systemctl reload bundlegate > "$logs/reload.log" 2>&1; then fail "reload of an invalid config succeeded"; fi
check "an invalid config reached the agent (nothing should be signalled)" test "$(grep -c config-reloaded <(tail -n +$((before + 1)) "$audit"))" = 0
sed 's/^workers = 2$/workers = 3/' "$logs/good.toml" > "$root$config"
grep -q '^workers = 3$' "$root$config" || fail "the packaged config has no 'workers = 2' line to change"
if inside systemctl reload bundlegate > "$logs/reload.log" 2>&1; then fail "reload of a refused config (workers changed) succeeded"; fi
tail -n +$((before + 1)) "$audit" | matches '"event":"config-reloaded".*"ok":false' ||
  fail "the agent did not record its refusal"
check "the agent was restarted by a refused reload" test "$(inside systemctl show -p MainPID --value bundlegate)" = "$pid"
check "the unit is not active after a refused reload" test "$(inside systemctl is-active bundlegate)" = active
ok_before=$(reloads_ok)
cp "$logs/good.toml" "$root$config"
inside systemctl reload bundlegate > "$logs/reload.log" 2>&1 || { cat "$logs/reload.log"; fail "reload of the good config failed"; }
check "the good config was not applied" test "$(reloads_ok)" -gt "$ok_before"
step "reload: invalid config refused (nothing signalled), workers change refused by the agent, good config applied; pid $pid throughout"

# ---- The watchdog: a stuck loop is aborted and the unit restarted. ----
restarts=$(inside systemctl show -p NRestarts --value bundlegate)
inside /bin/bash -c "kill -STOP $pid"
step "SIGSTOP to the agent (pid $pid): waiting for the watchdog (WatchdogSec=30)"
newpid=$pid
for _ in $(seq 240); do
  newpid=$(inside systemctl show -p MainPID --value bundlegate)
  [ "$newpid" != "$pid" ] && [ "$newpid" != 0 ] && [ "$(inside systemctl is-active bundlegate)" = active ] && break
  sleep 0.5
done
[ "$newpid" != "$pid" ] && [ "$newpid" != 0 ] || fail "the watchdog did not restart the stopped agent"
inside journalctl -u bundlegate --no-pager | matches -i 'watchdog timeout' || fail "no watchdog timeout in the journal"
check "NRestarts did not grow" test "$(inside systemctl show -p NRestarts --value bundlegate)" -gt "$restarts"
step "watchdog: timeout, restarted as pid $newpid"

# ---- An upgrade (the same package again) restarts the running agent. ----
inside systemctl enable bundlegate >/dev/null 2>&1
inside dpkg -i --force-confdef --force-confold /root/bundlegate.deb > "$logs/dpkg.log" 2>&1 ||
  { cat "$logs/dpkg.log"; fail "reinstall failed"; }
check "an upgrade left the agent stopped" test "$(inside systemctl is-active bundlegate)" = active
check "an upgrade did not restart the agent" test "$(inside systemctl show -p MainPID --value bundlegate)" != "$newpid"
check "an upgrade disabled the unit" test "$(inside systemctl is-enabled bundlegate)" = enabled
step "upgrade: restarted, still enabled"

# ---- Stop drains: the bundle being checked finishes or goes back to the inbox. ----
produce slow
for _ in $(seq 600); do
  [ -n "$(ls -A "$root/var/lib/bundlegate/work" 2>/dev/null)" ] && break
  sleep 0.1
done
[ -n "$(ls -A "$root/var/lib/bundlegate/work")" ] || fail "the slow bundle was never claimed"
step "slow bundle claimed; systemctl stop"
inside systemctl stop bundlegate
inside journalctl -u bundlegate --no-pager | matches -F 'no more claims; 1 bundle(s) in flight' ||
  fail "the stop did not come while the slow bundle was in flight"
check "stop: the agent did not exit 0" test "$(inside systemctl show -p ExecMainStatus --value bundlegate)" = 0
tail -n 3 "$audit" | matches '"event":"stopped"' || fail "no stopped record at the end of the audit log"
check "work/ is not empty after a drained stop" test -z "$(ls -A "$root/var/lib/bundlegate/work")"
where=$(decision slow | tail -n1)
if [ -n "$where" ]; then
  step "stop: the slow bundle was finished ($where), then stopped"
else
  check "the slow bundle is neither decided nor back in the inbox" test -d "$inbox/slow"
  step "stop: the slow bundle went back to the inbox"
fi
inside bundlegate audit verify --config "$config" > "$logs/verify.log" 2>&1 || { cat "$logs/verify.log"; fail "audit verify"; }

# ---- Purge keeps the data. ----
inside dpkg --purge bundlegate > "$logs/dpkg.log" 2>&1 || { cat "$logs/dpkg.log"; fail "purge failed"; }
check "purge left the conffile" test ! -e "$root$config"
check "purge removed the audit log" test -s "$audit"
check "purge removed the user" inside getent passwd bundlegate >/dev/null
step "purge: package gone, /var/lib/bundlegate and the users kept"
step "cgroup hierarchy in the container: $cgroupfs"
echo "PASSED in $((SECONDS - t0)) s (install $install_ms ms, exposure $exposure)"

#!/bin/sh
# private_journald.sh JOURNAL_DIR PIDFILE -- COMMAND [ARGS...]
#
# Runs COMMAND next to a systemd-journald of its own, for tests of structured logging. Run it
# in a mount namespace of its own (`unshare -m`): it mounts tmpfs over /run/systemd and /run/log
# there (and /var/log/journal, if present), so the journal socket COMMAND finds is this
# journald's, and the machine's own journal (if any) is never touched. The journal files land
# in JOURNAL_DIR (read them with `journalctl -D JOURNAL_DIR`); journald's pid goes to PIDFILE
# (the caller stops it). COMMAND is exec'd, so it keeps this process's pid.
set -eu
dir=$1
pidfile=$2
shift 3
mount --make-rprivate /
for d in /run/systemd /run/log; do
  mkdir -p "$d"
  mount -t tmpfs -o mode=0755 tmpfs "$d"
done
[ -d /var/log/journal ] && mount -t tmpfs tmpfs /var/log/journal
mkdir -p /run/systemd/journal /run/log/journal
mount --bind "$dir" /run/log/journal
# journald must not answer the caller's NOTIFY_SOCKET in COMMAND's place.
env -u NOTIFY_SOCKET -u WATCHDOG_USEC -u WATCHDOG_PID /lib/systemd/systemd-journald \
  </dev/null >/dev/null 2>&1 &
echo $! >"$pidfile"
i=0
while [ ! -S /run/systemd/journal/socket ] && [ $i -lt 100 ]; do
  sleep 0.1
  i=$((i + 1))
done
[ -S /run/systemd/journal/socket ] || { echo "private_journald: journald did not start" >&2; exit 1; }
exec "$@"

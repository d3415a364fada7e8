#!/usr/bin/python3
"""Times shell commands side by side: alternating runs, medians, ratios to a baseline, in one run.

    scripts/bench/alternate.py [--runs N] [--baseline LABEL] [--title TEXT] < SPEC

SPEC: one command a line, "LABEL<TAB>shell command" (blank lines and lines starting with '#'
are skipped). Every round runs each command once, in order, so that a noisy neighbour slows
all of them alike; the first round is a warm-up and is not counted. For each command it
prints the median wall time and the median CPU time (user + system of the command and its
children, from wait4: what the machine's load cannot inflate as much as wall time), each as
a ratio to the baseline's (default: the first line). A command that exits non-zero is
reported once and still timed (a rejected bundle exits 1 by design).

Used by the benchmarks in this directory; nothing in the test suite times anything.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time


def run_once(command):
    start = time.perf_counter()
    proc = subprocess.Popen(["/bin/sh", "-c", command], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = (time.perf_counter() - start) * 1000
    cpu = (usage.ru_utime + usage.ru_stime) * 1000
    return wall, cpu, os.waitstatus_to_exitcode(status)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    spec = []
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip() or line.startswith("#"):
            continue
        label, _, command = line.partition("\t")
        spec.append((label, command))
    if not spec:
        sys.exit("alternate.py: no commands on stdin")
    baseline = args.baseline or spec[0][0]
    walls = {label: [] for label, _ in spec}
    cpus = {label: [] for label, _ in spec}
    failed = set()
    for round_no in range(args.runs + 1):
        for label, command in spec:
            wall, cpu, code = run_once(command)
            if code != 0 and label not in failed:
                failed.add(label)
                print(f"  note: {label} exited {code}", file=sys.stderr)
            if round_no > 0:
                walls[label].append(wall)
                cpus[label].append(cpu)
    if args.title:
        print(args.title)
    print(f"  {'command':<28} {'wall ms':>9} {'ratio':>7} {'cpu ms':>9} {'ratio':>7}"
          f"   (median of {args.runs} alternating runs; ratio to {baseline})")
    base_wall = statistics.median(walls[baseline])
    base_cpu = statistics.median(cpus[baseline])
    for label, _ in spec:
        w, c = statistics.median(walls[label]), statistics.median(cpus[label])
        print(f"  {label:<28} {w:9.1f} {w / max(base_wall, 0.1):6.2f}x {c:9.1f}"
              f" {c / max(base_cpu, 0.1):6.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Benchmark: what the plugin sandbox (agent/sandbox/) costs per plugin run.

Run (after building; bg_sandbox_bench is built with the tests):
    scripts/bench/sandbox_cost.py [--runs 20] [--bench build/bin/bg_sandbox_bench]
        [--program /bin/true [ARGS...]]

What it does: build/bin/bg_sandbox_bench times RUNS runs of PROGRAM (default /bin/true, so that
only the sandbox is measured) from PreparedSandbox::Prepare to the reaped exit, for each
configuration interleaved run by run: no layer, every layer, and every layer but one for each
layer in turn. It prints the median (and p90) per configuration, the sandbox's cost (all minus
none) and what each layer adds (all minus all-but-that-layer). Run as root it measures twice:
as root (plugins then run as nobody, without a user namespace) and as nobody through setpriv
(what the systemd service does: every namespace through a user namespace of the run's own).
Numbers are medians of one run on this machine; compare them within a run, not across machines.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def measure(bench, runs, program, as_nobody):
    cmd = [str(bench), str(runs)] + program
    if as_nobody:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def report(title, result):
    by_name = {c["name"]: c for c in result["configs"]}
    none, full = by_name["none"]["median_ms"], by_name["all"]["median_ms"]
    print(f"\n{title}: {result['runs']} runs of {result['program']}, median (p90) ms")
    print(f"  {'no layer':<22}{none:8.2f}  ({by_name['none']['p90_ms']:.2f})")
    print(f"  {'every layer':<22}{full:8.2f}  ({by_name['all']['p90_ms']:.2f})"
          f"   sandbox cost {full - none:+.2f} ms")
    for c in result["configs"]:
        if not c["name"].startswith("all but "):
            continue
        layer = c["name"][len("all but "):]
        print(f"  {'without ' + layer:<22}{c['median_ms']:8.2f}  ({c['p90_ms']:.2f})"
              f"   {layer} adds {full - c['median_ms']:+.2f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--bench", default=str(HERE / "build/bin/bg_sandbox_bench"))
    parser.add_argument("--program", nargs="+", default=["/bin/true"])
    args = parser.parse_args()
    if not Path(args.bench).exists():
        sys.exit(f"{args.bench} is missing: build first (scripts/build)")
    print(f"sandbox cost per plugin run; reproduce with: {' '.join(sys.argv)}")
    report("as " + ("root" if os.geteuid() == 0 else "this user"),
           measure(args.bench, args.runs, args.program, False))
    if os.geteuid() == 0:
        report("as nobody (setpriv)", measure(args.bench, args.runs, args.program, True))


if __name__ == "__main__":
    main()

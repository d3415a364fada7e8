#!/usr/bin/env python3
"""Promotion latency with and without another tenant writing to the same filesystem.

    scripts/bench/promotion_latency.py [--runs 100] [--settle-ms 200] [--writer-gb 4]
                                       [--intake move|copy] [--dir DIR] [--bin PATH]

A training job writing a checkpoint beside the gate must not make the gate wait for its data.
This runs the real `bundlegate run` on a fresh root under DIR (default: $TMPDIR or /tmp, i.e.
the filesystem under test), and for each of two phases drops --runs trivial bundles one at a
time by rename(2) and takes the time from the rename to the `promoted` audit record's timestamp:
  quiet    nothing else writes;
  writer   `dd` writes --writer-gb GiB of dirty data to a file in DIR, over and over, for the
           whole phase (no fsync, no O_DIRECT: page-cache data that the kernel writes back,
           as a checkpoint writer does).
It prints, per phase, the median and p99 beyond settle_ms (the agent's own work, not its
deliberate wait) and the max, and the ratio p99(writer) / p99(quiet).

Compare binaries by running it twice with --bin (e.g. main's build/bin/bundlegate). The ratio
is what to compare across machines; absolute figures depend on the disk.
Standard library only; needs the built binary (scripts/build) and dd.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agent_bench import BIN, record_time, write_bundle  # noqa: E402


class Agent:
    def __init__(self, work, settle_ms, intake, binary):
        self.root = os.path.join(work, "root")
        self.inbox = os.path.join(self.root, "inbox")
        self.audit = os.path.join(self.root, "audit.jsonl")
        config = os.path.join(work, "bg.toml")
        with open(config, "w") as f:
            f.write(f'require_parity = false\nworkers = 2\nintake = "{intake}"\n'
                    f'[paths]\nroot = "root"\n[watch]\nsettle_ms = {settle_ms}\n'
                    f"[serving]\nkeep_versions = 3\n")
        self.log = open(os.path.join(work, "agent.log"), "w")
        self.proc = subprocess.Popen([binary, "run", "--config", config], stderr=self.log)
        self.offset = 0
        self.records = []
        self.wait(lambda r: r["event"] == "started")

    def poll(self):
        import json
        with open(self.audit, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            self.records.append(json.loads(line))

    def wait(self, pred, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.audit):
                self.poll()
            for r in self.records:
                if pred(r):
                    return r
            time.sleep(0.001)
        raise TimeoutError("no such audit record")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


class Writer:
    """dd writing `gb` GiB of dirty data to one file, again and again, until stopped."""

    def __init__(self, path, gb):
        self.path, self.gb = path, gb
        self.proc = None
        self.loops = 0

    def start(self):
        script = (f"while :; do dd if=/dev/zero of={self.path} bs=1M count={self.gb * 1024} "
                  f"status=none; echo loop; done")
        self.proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE,
                                     start_new_session=True)
        time.sleep(3)  # let it build up dirty data before measuring

    def stop(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def dirty_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("Dirty:"):
                return int(line.split()[1])
    return 0


def measure(agent, runs, settle_ms, tag):
    samples, dirty = [], []
    for i in range(runs):
        staging = os.path.join(agent.inbox, f".{tag}{i}.tmp")
        write_bundle(staging, f"lat-{tag}", f"1.{i}")
        dirty.append(dirty_kib())
        t0 = time.time()
        os.rename(staging, os.path.join(agent.inbox, f"{tag}{i}"))
        rec = agent.wait(lambda r, n=f"{tag}{i}": r["event"] == "promoted" and r.get("inbox_name") == n)
        samples.append((record_time(rec) - t0) * 1000.0 - settle_ms)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))]
    return statistics.median(samples), p99, samples[-1], statistics.median(dirty) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--settle-ms", type=int, default=200)
    ap.add_argument("--writer-gb", type=int, default=4)
    ap.add_argument("--intake", choices=["move", "copy"], default="move")
    ap.add_argument("--dir", default=None, help="where the root and the writer's file go")
    ap.add_argument("--bin", default=BIN)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bundlegate-latency-", dir=args.dir)
    writer = Writer(os.path.join(work, "checkpoint.bin"), args.writer_gb)
    print(f"binary {args.bin}; root in {work}; intake {args.intake}; {args.runs} runs per phase; "
          f"settle_ms {args.settle_ms}")
    try:
        agent = Agent(work, args.settle_ms, args.intake, args.bin)
        try:
            quiet = measure(agent, args.runs, args.settle_ms, "quiet")
            writer.start()
            try:
                loaded = measure(agent, args.runs, args.settle_ms, "writer")
            finally:
                writer.stop()
        finally:
            agent.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, (med, p99, mx, dirty) in (("quiet", quiet), (f"{args.writer_gb} GiB writer", loaded)):
        print(f"  {name:>14}: beyond settle: median {med:7.1f} ms, p99 {p99:7.1f} ms, max {mx:7.1f} ms"
              f"  (dirty data at the drops: median {dirty:.0f} MiB)")
    print(f"  p99 ratio writer / quiet: {loaded[1] / max(quiet[1], 0.1):.1f}x")


if __name__ == "__main__":
    main()

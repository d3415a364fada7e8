#!/usr/bin/env python3
"""Copy intake cost: a bundle of many small files, and one of a single large file.

    scripts/bench/copy_intake_bench.py [--before BIN] [--after BIN] [--small-files 1000]
                                       [--large-mib 1024] [--runs 3] [--dir DIR]

Runs the real `bundlegate run` (copy intake, no plugins, one worker) on a fresh root in DIR
(default: a temp dir on the filesystem of /tmp) and measures, for each bundle renamed into the
inbox, the time from the rename to its `promoted` audit record, minus settle_ms: claiming,
copying while hashing, making the copy durable, the decision. The producer's files are synced
before each rename, so that only the agent's own writes are flushed. With --before, the two
binaries take turns run by run (same disk, same load), and the ratio after/before is printed:
compare ratios within one run, not figures across machines.

Standard library only; --after defaults to build/bin/bundlegate.
"""
import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
AFTER = os.path.join(HERE, "..", "..", "build", "bin", "bundlegate")
SETTLE_MS = 50


def write_bundle(path, version, files):
    toml = [f'format = 1\nname = "bench"\nversion = "{version}"\ncreated = 2026-11-28T10:00:00Z\n'
            f'[source]\ncommit = "{"a" * 40}"\ndirty = false\nlockfile_path = "r.lock"\n'
            f'preprocessing_path = "p.toml"\n[model]\npath = "model.pt"\nformat = "torchscript"\n'
            f'[dependencies]\nlockfile = "r.lock"\n[preprocessing]\nversion = "v1"\nspec = "p.toml"\n'
            f'[parity]\ninputs = "i.st"\nexpected = "e.st"\n']
    for rel, writer in files:
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        h = hashlib.sha256()
        size = 0
        with open(full, "wb") as f:
            for chunk in writer():
                f.write(chunk)
                h.update(chunk)
                size += len(chunk)
        toml.append(f'[[files]]\npath = "{rel}"\nsize = {size}\nsha256 = "{h.hexdigest()}"\n')
    with open(os.path.join(path, "bundle.toml"), "w") as f:
        f.write("".join(toml))


def small_files(n):
    def one(i):
        return lambda: [(b"%08d" % i) * 256]
    base = [("model.pt", one(0)), ("r.lock", one(1)), ("p.toml", one(2)), ("i.st", one(3)),
            ("e.st", one(4))]
    return base + [(f"data/{i // 100:03d}/f{i:05d}.bin", one(i)) for i in range(n - len(base))]


def large_file(mib):
    block = os.urandom(1 << 20)
    def model():
        for _ in range(mib):
            yield block
    small = lambda: [b"x"]
    return [("model.pt", model), ("r.lock", small), ("p.toml", small), ("i.st", small),
            ("e.st", small)]


def parse_time(stamp):
    # "2026-11-28T10:00:00.123Z"
    main, frac = stamp.rstrip("Z").split(".")
    return time.mktime(time.strptime(main, "%Y-%m-%dT%H:%M:%S")) - time.timezone + float("0." + frac)


class Agent:
    def __init__(self, binary, work):
        self.root = os.path.join(work, "root")
        self.inbox = os.path.join(self.root, "inbox")
        self.audit = os.path.join(self.root, "audit.jsonl")
        config = os.path.join(work, "bg.toml")
        with open(config, "w") as f:
            f.write(f'require_parity = false\nworkers = 1\n[paths]\nroot = "root"\n'
                    f'[watch]\nsettle_ms = {SETTLE_MS}\n[limits]\nmin_free_bytes = 0\n'
                    f'max_bundle_bytes = {1 << 40}\n[serving]\nkeep_versions = 1\n')
        self.log = open(os.path.join(work, "agent.log"), "w")
        self.proc = subprocess.Popen([binary, "run", "--config", config], stderr=self.log)
        deadline = time.time() + 30
        while not os.path.exists(self.audit) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)

    def promoted(self, version, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with open(self.audit) as f:
                for line in f:
                    r = json.loads(line)
                    if r.get("version") == version and r["event"] in ("promoted", "rejected"):
                        if r["event"] != "promoted":
                            raise SystemExit(f"bench bundle rejected: {r}")
                        return parse_time(r["time"])
            time.sleep(0.01)
        raise SystemExit("no decision in time")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(60)


def measure(binary, work, files, version):
    agent = Agent(binary, work)
    try:
        staging = os.path.join(agent.inbox, ".b.tmp")
        write_bundle(staging, version, files)
        os.sync()  # the producer's bytes are on disk: only the agent's own writes are timed
        start = time.time()
        os.rename(staging, os.path.join(agent.inbox, "b"))
        return agent.promoted(version) - start - SETTLE_MS / 1000.0
    finally:
        agent.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", help="the binary to compare against (e.g. a build of main)")
    ap.add_argument("--after", default=AFTER)
    ap.add_argument("--small-files", type=int, default=1000)
    ap.add_argument("--large-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    binaries = [("after", args.after)] + ([("before", args.before)] if args.before else [])
    workloads = [(f"{args.small_files} small files", small_files(args.small_files))]
    if args.large_mib > 0:
        workloads.append((f"one {args.large_mib} MiB file", large_file(args.large_mib)))
    print(f"copy intake: rename -> promoted, minus settle ({SETTLE_MS} ms); median of {args.runs} runs")
    for label, files in workloads:
        times = {name: [] for name, _ in binaries}
        for run in range(args.runs):
            for name, binary in (binaries if run % 2 == 0 else list(reversed(binaries))):
                work = tempfile.mkdtemp(prefix="bg-copy-bench-", dir=args.dir)
                try:
                    times[name].append(measure(binary, work, files, f"r{run}"))
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        line = f"  {label}:"
        for name, _ in binaries:
            line += f" {name} {statistics.median(times[name]) * 1000:.0f} ms ({', '.join(f'{t * 1000:.0f}' for t in times[name])})"
        if args.before:
            line += f"; after/before = {statistics.median(times['after']) / statistics.median(times['before']):.2f}"
        print(line)
    print("reproduce: scripts/bench/copy_intake_bench.py " +
          (f"--before {args.before} " if args.before else "") + f"--runs {args.runs}")


if __name__ == "__main__":
    main()

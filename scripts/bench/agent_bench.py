#!/usr/bin/env python3
"""Agent benchmarks: latency from rename-into-inbox to promotion, idle cost, and throughput.

    scripts/bench/agent_bench.py [--latency-runs 100] [--idle-s 60] [--bulk 1000] [--settle-ms 200]

Runs the real `bundlegate run` on a fresh root in a temp dir (copy intake, no plugins, so the
figures are the agent's own: settling, claiming, copying, hashing, fsyncs, audit), and prints:
  - latency: for each of N trivial bundles dropped one at a time by rename(2), the time from the
    rename to the `promoted` audit record's timestamp; median and p99, and both minus settle_ms
    (the part that is the agent's work, not its deliberate wait);
  - idle: the agent's RSS and CPU share over --idle-s seconds with nothing to do;
  - bulk: wall time to decide --bulk small bundles renamed in at once (2 workers), and the
    agent's peak RSS over the whole run (VmHWM: the flood is its high-water mark).
Standard library only; needs the built binary (scripts/build).
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("BUNDLEGATE_BIN", os.path.join(HERE, "..", "..", "build", "bin", "bundlegate"))


def write_bundle(path, name, version):
    files = {
        "model.pt": f"weights {name} {version}".encode(),
        "requirements.lock": b"numpy==1.26.4\n",
        "preprocess.toml": b"[resize]\nsize = 256\n",
        "parity/inputs.safetensors": b"inputs",
        "parity/expected.safetensors": b"expected",
    }
    os.makedirs(os.path.join(path, "parity"))
    for rel, data in files.items():
        with open(os.path.join(path, rel), "wb") as f:
            f.write(data)
    toml = f"""format = 1
name = "{name}"
version = "{version}"
created = 2026-11-28T10:00:00Z
[source]
commit = "{'a' * 40}"
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
inputs = "parity/inputs.safetensors"
expected = "parity/expected.safetensors"
"""
    for rel, data in files.items():
        toml += f'[[files]]\npath = "{rel}"\nsize = {len(data)}\nsha256 = "{hashlib.sha256(data).hexdigest()}"\n'
    with open(os.path.join(path, "bundle.toml"), "w") as f:
        f.write(toml)


class Agent:
    def __init__(self, work, settle_ms):
        self.root = os.path.join(work, "root")
        self.inbox = os.path.join(self.root, "inbox")
        self.audit = os.path.join(self.root, "audit.jsonl")
        config = os.path.join(work, "bg.toml")
        with open(config, "w") as f:
            f.write(f'require_parity = false\nworkers = 2\n[paths]\nroot = "root"\n'
                    f"[watch]\nsettle_ms = {settle_ms}\n[serving]\nkeep_versions = 0\n")
        self.log = open(os.path.join(work, "agent.log"), "w")
        self.proc = subprocess.Popen([BIN, "run", "--config", config], stderr=self.log)
        self.offset = 0
        self.records = []
        self.wait(lambda r: r["event"] == "started")

    def poll(self):
        with open(self.audit, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        for line in data[:end].splitlines():
            self.records.append(json.loads(line))

    def wait(self, pred, count=1, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.audit):
                self.poll()
            found = [r for r in self.records if pred(r)]
            if len(found) >= count:
                return found
            time.sleep(0.001)
        raise TimeoutError("no such audit record")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def record_time(r):
    # "2026-11-28T10:00:00.123Z" -> seconds since the epoch
    t = time.strptime(r["time"][:19], "%Y-%m-%dT%H:%M:%S")
    return time.mktime(t) - time.timezone + int(r["time"][20:23]) / 1000.0


def latency(agent, work, runs, settle_ms):
    samples = []
    for i in range(runs):
        staging = os.path.join(agent.inbox, f".lat{i}.tmp")
        write_bundle(staging, "lat", f"1.{i}")
        t0 = time.time()
        os.rename(staging, os.path.join(agent.inbox, f"lat{i}"))
        rec = agent.wait(lambda r, i=i: r["event"] == "promoted" and r.get("inbox_name") == f"lat{i}")[0]
        samples.append((record_time(rec) - t0) * 1000.0)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(round(0.99 * (len(samples) - 1))))]
    med = statistics.median(samples)
    print(f"latency, rename to promoted record, {runs} runs, settle_ms = {settle_ms}:")
    print(f"  median {med:.1f} ms, p99 {p99:.1f} ms, min {samples[0]:.1f} ms, max {samples[-1]:.1f} ms")
    print(f"  beyond settle_ms: median {med - settle_ms:.1f} ms, p99 {p99 - settle_ms:.1f} ms")


def idle(agent, seconds):
    pid = agent.proc.pid
    hz = os.sysconf("SC_CLK_TCK")

    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / hz

    time.sleep(2)
    c0, t0 = cpu(), time.time()
    time.sleep(seconds)
    c1, t1 = cpu(), time.time()
    rss = status_kib(pid, "VmRSS")
    print(f"idle over {seconds} s: RSS {rss / 1024:.1f} MiB, CPU {100.0 * (c1 - c0) / (t1 - t0):.3f}%")


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def bulk(agent, count):
    staged = []
    for i in range(count):
        staging = os.path.join(agent.inbox, f".bulk{i}.tmp")
        write_bundle(staging, f"bulk{i % 10}", f"2.{i}")
        staged.append(staging)
    t0 = time.time()
    for i, staging in enumerate(staged):
        os.rename(staging, os.path.join(agent.inbox, f"bulk{i}"))
    agent.wait(lambda r: r["event"] in ("promoted", "rejected") and r.get("inbox_name", "").startswith("bulk"),
               count)
    elapsed = time.time() - t0
    print(f"bulk: {count} small bundles renamed in at once, all decided in {elapsed:.1f} s "
          f"({count / elapsed:.1f} bundles/s, 2 workers); peak RSS {status_kib(agent.proc.pid, 'VmHWM') / 1024:.1f} MiB, "
          f"RSS after {status_kib(agent.proc.pid, 'VmRSS') / 1024:.1f} MiB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latency-runs", type=int, default=100)
    ap.add_argument("--idle-s", type=int, default=60)
    ap.add_argument("--bulk", type=int, default=1000)
    ap.add_argument("--settle-ms", type=int, default=200)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="bundlegate-bench-")
    try:
        agent = Agent(work, args.settle_ms)
        try:
            if args.latency_runs:
                latency(agent, work, args.latency_runs, args.settle_ms)
            if args.idle_s:
                idle(agent, args.idle_s)
            if args.bulk:
                bulk(agent, args.bulk)
        finally:
            agent.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

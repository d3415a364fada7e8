#!/usr/bin/python3
"""The agent's per-bundle gate time against a Python script doing the same checks, per model.

    /usr/bin/python3 scripts/bench/gate_bench.py [--runs 5] [--models resnet18,mobilenet_v3_small,mlp]
        [--cases 4] [--settle-ms 100]

Packs each model (torchvision, random weights, seed 0; "mlp": 3 linear layers 256-512-512-10)
with scripts/bundlegate_pack.py, CASES parity cases, [inference] threads = 1. Then starts the
real `bundlegate run` (copy intake, require_parity = true, the torchscript plugin from
build/bin configured to do the same work as the Python script: deterministic = "off",
batch_consistency = false, empty_batch and wrong_dtype "skip") and, in alternating rounds,
for each model:
  cold     an agent with `warm = false`: drops a fresh version of the bundle by rename(2) and
           takes the time from the rename to the `promoted` audit record's timestamp, minus
           settle_ms (the deliberate wait for the producer to finish, which a script run after
           the producer does not have): claim, copy, hashing, manifest, lockfile,
           preprocessing, the plugin (a fresh sandboxed process that loads LibTorch and the
           model), promotion with its fsyncs, the audit record
  warm     the same with a second agent whose torchscript check keeps a warm worker (the
           default): the plugin's part is a fresh sandboxed child forked from a worker that has
           LibTorch loaded (agent/plugin/warm_worker.h); the first round starts the worker
  python   scripts/bench/python_reference_parity.py BUNDLE 1 --integrity: import torch, sizes
           and SHA-256 of every [[files]] entry, torch.jit.load, one forward per case,
           assert_close (no copy, no fsync, no audit: less than the agent does)
and prints medians and the ratio agent/python (goal, issue 10: <= 0.35x for resnet18).

Both agents run at once (the rounds alternate between them); the warm one is checked to have a
`--serve` worker at the end, so a silent fall back to cold runs cannot pass for warm figures.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
BIN = ROOT / "build" / "bin"


def make_bundle(out, model_name, cases):
    import torch
    import torchvision
    import bundlegate_pack
    torch.manual_seed(0)
    work = out / f"producer-{model_name}"
    work.mkdir(parents=True)
    (work / "requirements.lock").write_text("torch==1.13.0\n")
    (work / "preprocess.toml").write_text('version = "imagenet-norm-v2"\n')
    if model_name == "mlp":
        model = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 512),
                                    torch.nn.ReLU(), torch.nn.Linear(512, 10))
        inputs = {f"x{i}": (torch.randn(1, 256),) for i in range(cases)}
    else:
        model = getattr(torchvision.models, model_name)(weights=None)
        inputs = {f"img{i}": (torch.randn(1, 3, 224, 224),) for i in range(cases)}
    name = model_name.replace("_", "-")
    return bundlegate_pack.pack(
        model, inputs, out / name, name=name, version="1", lockfile=work / "requirements.lock",
        preprocessing_spec=work / "preprocess.toml", preprocessing_version="imagenet-norm-v2",
        commit="ab" * 20, dirty=False, lockfile_path="requirements.lock",
        preprocessing_path="preprocess.toml", inference={"device": "cpu", "threads": 1, "max_batch": 8})


class Agent:
    def __init__(self, work, settle_ms, warm):
        work.mkdir(parents=True, exist_ok=True)
        self.root = work / "root"
        self.inbox = self.root / "inbox"
        self.audit = self.root / "audit.jsonl"
        config = work / "bg.toml"
        config.write_text(
            f'intake = "copy"\nrequire_parity = true\nworkers = 2\nplugin_dirs = ["{BIN}"]\n'
            f'[paths]\nroot = "{self.root}"\n[watch]\nsettle_ms = {settle_ms}\n[serving]\nkeep_versions = 0\n'
            '[[checks]]\nkind = "torchscript"\ntimeout_s = 120\nmemory_mb = 2000\n'
            'deterministic = "off"\nbatch_consistency = false\nempty_batch = "skip"\nwrong_dtype = "skip"\n'
            f'warm = {"true" if warm else "false"}\n')
        self.log = open(work / "agent.log", "w")
        self.proc = subprocess.Popen([str(BIN / "bundlegate"), "run", "--config", str(config)], stderr=self.log)
        self.offset = 0
        self.records = []
        self.n = 0
        self.wait(lambda r: r["event"] == "started")

    def poll(self):
        with open(self.audit, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        self.records += [json.loads(line) for line in data[:end].splitlines()]

    def wait(self, pred, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.audit.exists():
                self.poll()
            found = [r for r in self.records if pred(r)]
            if found:
                return found[0]
            time.sleep(0.002)
        raise TimeoutError(f"no such audit record; see {self.log.name}")

    def gate(self, bundle):
        """Drops a new version of `bundle`; returns (ms rename to record, the record)."""
        self.n += 1
        name = f"{bundle.name}-{self.n}"
        staging = self.inbox / f".{name}.tmp"
        shutil.copytree(bundle, staging)
        toml = (staging / "bundle.toml").read_text()
        (staging / "bundle.toml").write_text(toml.replace('version = "1"', f'version = "1.{self.n}"', 1))
        os.sync()
        t0 = time.time()
        os.rename(staging, self.inbox / name)
        rec = self.wait(lambda r: r.get("inbox_name") == name and r["event"] in ("promoted", "rejected"))
        if rec["event"] != "promoted":
            raise SystemExit(f"{name} was rejected: {rec.get('reason')}: {rec.get('message')}")
        return (record_time(rec) - t0) * 1000, rec

    def workers(self):
        """Its warm workers: `--serve` processes among its descendants whose parent is not one."""
        def children(pid):
            try:
                return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
            except OSError:
                return []

        def serve(pid):
            try:
                return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[1:2] == [b"--serve"]
            except OSError:
                return False
        found, todo = [], [(self.proc.pid, False)]
        while todo:
            pid, parent_serves = todo.pop()
            serves = serve(pid)
            if serves and not parent_serves:
                found.append(pid)
            todo += [(c, serves) for c in children(pid)]
        return found

    def rss_kib(self):
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def record_time(r):
    t = time.strptime(r["time"][:19], "%Y-%m-%dT%H:%M:%S")
    return time.mktime(t) - time.timezone + int(r["time"][20:23]) / 1000.0


def python_ms(bundle):
    t = time.perf_counter()
    r = subprocess.run([sys.executable, str(HERE / "python_reference_parity.py"), str(bundle), "1", "--integrity"],
                       capture_output=True, text=True)
    ms = (time.perf_counter() - t) * 1000
    if r.returncode != 0 or not json.loads(r.stdout)["ok"]:
        raise SystemExit(f"the Python reference failed on {bundle}: {r.stdout} {r.stderr[-1000:]}")
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", default="resnet18,mobilenet_v3_small,mlp")
    ap.add_argument("--cases", type=int, default=4)
    ap.add_argument("--settle-ms", type=int, default=100)
    ap.add_argument("--keep")
    args = ap.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bundlegate-gate-bench-"))
    models = args.models.split(",")
    bundles = {m: make_bundle(work, m, args.cases) for m in models}
    cold = Agent(work / "cold", args.settle_ms, warm=False)
    warm = Agent(work / "warm", args.settle_ms, warm=True)
    samples = {m: {"cold": [], "warm": [], "python": [], "check_cold": [], "check_warm": []} for m in models}
    try:
        for round_no in range(args.runs + 1):  # the first round warms up (and starts the worker)
            for m in models:
                row = {}
                for label, agent in (("cold", cold), ("warm", warm)):
                    gate, rec = agent.gate(bundles[m])
                    row[label] = gate - args.settle_ms
                    ts = next(c for c in rec["checks"] if c["check"] == "torchscript")
                    row["check_" + label] = ts.get("duration_ms", 0)
                row["python"] = python_ms(bundles[m])
                if round_no == 0:
                    continue
                for k, v in row.items():
                    samples[m][k].append(v)
        workers = warm.workers()
        if not workers or cold.workers():
            raise SystemExit(f"expected a warm worker under the warm agent only: warm {workers}, "
                             f"cold {cold.workers()}")
        worker_rss = sum(int(Path(f"/proc/{w}/status").read_text().split("VmRSS:")[1].split()[0])
                         for w in workers)
        agent_rss = warm.rss_kib()
    finally:
        cold.stop()
        warm.stop()
    print(f"gate time, claim to decision (rename to promoted record minus settle_ms = {args.settle_ms}),"
          f" median of {args.runs} alternating rounds, {args.cases} cases, threads = 1, "
          f"{os.cpu_count()} CPUs, ms:")
    print(f"  {'model':20}{'cold':>8}{'warm':>8}{'python':>8}{'cold/py':>9}{'warm/py':>9}"
          f"{'check cold':>12}{'check warm':>12}")
    for m in models:
        s = {k: statistics.median(v) for k, v in samples[m].items()}
        print(f"  {m:20}{s['cold']:8.0f}{s['warm']:8.0f}{s['python']:8.0f}{s['cold'] / s['python']:9.2f}"
              f"{s['warm'] / s['python']:9.2f}{s['check_cold']:12.0f}{s['check_warm']:12.0f}")
    print("  check: the torchscript check's duration in the agent (cold: process start, sandbox, LibTorch"
          " initialisation, the plugin's work; warm: a sandboxed child of the worker, the plugin's work)")
    print(f"  RSS: warm agent {agent_rss / 1024:.0f} MiB, its warm worker(s) {worker_rss / 1024:.0f} MiB")
    print(f"reproduce: /usr/bin/python3 scripts/bench/gate_bench.py --runs {args.runs} --models {args.models} "
          f"--cases {args.cases} --settle-ms {args.settle_ms}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

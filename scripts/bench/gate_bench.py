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
  agent    drops a fresh version of the bundle by rename(2) and takes the time from the rename
           to the `promoted` audit record's timestamp, minus settle_ms (the deliberate wait for
           the producer to finish, which a script run after the producer does not have):
           claim, copy, hashing, manifest, lockfile, preprocessing, the plugin (a fresh
           sandboxed process that loads LibTorch and the model: the cold path), promotion with
           its fsyncs, the audit record
  python   scripts/bench/python_reference_parity.py BUNDLE 1 --integrity: import torch, sizes
           and SHA-256 of every [[files]] entry, torch.jit.load, one forward per case,
           assert_close (no copy, no fsync, no audit: less than the agent does)
and prints medians and the ratio agent/python (goal, issue 10: <= 0.35x for resnet18).

The warm path (a long-lived worker per plugin kind) is not built yet; this reports the cold path
only, and the torchscript check's share of it (its duration_ms in the audit record);
warm_worker_bench.py measures what a warm worker would remove from that share.
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
    def __init__(self, work, settle_ms):
        self.root = work / "root"
        self.inbox = self.root / "inbox"
        self.audit = self.root / "audit.jsonl"
        config = work / "bg.toml"
        config.write_text(
            f'intake = "copy"\nrequire_parity = true\nworkers = 2\nplugin_dirs = ["{BIN}"]\n'
            f'[paths]\nroot = "{self.root}"\n[watch]\nsettle_ms = {settle_ms}\n[serving]\nkeep_versions = 0\n'
            '[[checks]]\nkind = "torchscript"\ntimeout_s = 120\nmemory_mb = 2000\n'
            'deterministic = "off"\nbatch_consistency = false\nempty_batch = "skip"\nwrong_dtype = "skip"\n')
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
    agent = Agent(work, args.settle_ms)
    samples = {m: {"agent": [], "python": [], "check_ms": []} for m in models}
    try:
        for round_no in range(args.runs + 1):  # the first round warms up
            for m in models:
                gate, rec = agent.gate(bundles[m])
                py = python_ms(bundles[m])
                if round_no == 0:
                    continue
                ts = next(c for c in rec["checks"] if c["check"] == "torchscript")
                s = samples[m]
                s["agent"].append(gate - args.settle_ms)
                s["python"].append(py)
                s["check_ms"].append(ts.get("duration_ms", 0))
    finally:
        agent.stop()
    print(f"gate time, claim to decision (rename to promoted record minus settle_ms = {args.settle_ms}),"
          f" median of {args.runs} alternating rounds, {args.cases} cases, threads = 1, "
          f"{os.cpu_count()} CPUs, ms:")
    print(f"  {'model':20}{'agent (cold)':>13}{'python':>9}{'ratio':>8}{'plugin check':>14}")
    for m in models:
        s = {k: statistics.median(v) for k, v in samples[m].items()}
        print(f"  {m:20}{s['agent']:13.0f}{s['python']:9.0f}{s['agent'] / s['python']:8.2f}"
              f"{s['check_ms']:14.0f}")
    print("  plugin check: the torchscript check's duration in the agent (process start, sandbox, LibTorch"
          " initialisation, the plugin's work); warm_worker_bench.py measures what a warm worker removes")
    print(f"reproduce: /usr/bin/python3 scripts/bench/gate_bench.py --runs {args.runs} --models {args.models} "
          f"--cases {args.cases} --settle-ms {args.settle_ms}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Benchmark: the TorchScript plugin against a Python reference doing the same work.

Run (after building bundlegate-check-torchscript; needs the Python that has torch and torchvision):
    /usr/bin/python3 scripts/bench/torchscript_plugin_bench.py [--plugin PATH] [--runs 5]
        [--threads 1] [--cases 4] [--keep DIR]
PATH defaults to build/bin/bundlegate-check-torchscript.

What it does:
  1. Packs a resnet18 (torchvision, random weights, seed 0) with scripts/bundlegate_pack.py:
     CASES cases of one 3x224x224 image each, [inference] threads = THREADS.
  2. Times RUNS alternating runs of three processes, each from exec to exit (wall clock), and
     prints the median, the minimum and the ratio to the Python reference:
       python     scripts/bench/python_reference_parity.py: import torch, read the parity
                  files, torch.jit.load, one forward per case under inference_mode,
                  torch.testing.assert_close on every output
       plugin     bundlegate-check-torchscript doing that same work: config
                  deterministic = "off", batch_consistency = false, empty_batch = "skip",
                  wrong_dtype = "skip" (it still reads the attributes, the training flags and the
                  signature, which cost no forward)
       plugin-all the plugin with its default config: also a second run of every case
                  (determinism) and the two edge cases (empty batch, wrong dtype)
     and, from inside each process, the model load and the forwards' total (the plugin's
     metrics load_ms and forward_ms_total; the reference's own timers).
The request is the one the agent would send: bundle.toml read with tomllib into the shape of
Manifest::ToJson (the fields the plugin reads). Nothing is timed inside the test suite; this
script is the place for speed.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

SAME_WORK = {"deterministic": "off", "batch_consistency": False, "empty_batch": "skip", "wrong_dtype": "skip"}


def make_bundle(out, cases, threads):
    import torch
    import torchvision
    import bundlegate_pack
    torch.manual_seed(0)
    work = out / "producer"
    work.mkdir(parents=True)
    (work / "requirements.lock").write_text("torch==1.13.0\n")
    (work / "preprocess.toml").write_text('version = "imagenet-norm-v2"\n')
    inputs = {f"img{i}": (torch.randn(1, 3, 224, 224),) for i in range(cases)}
    return bundlegate_pack.pack(
        torchvision.models.resnet18(weights=None), inputs, out / "resnet18", name="resnet18",
        version="1", lockfile=work / "requirements.lock", preprocessing_spec=work / "preprocess.toml",
        preprocessing_version="imagenet-norm-v2", commit="ab" * 20, dirty=False,
        lockfile_path="requirements.lock", preprocessing_path="preprocess.toml",
        inference={"device": "cpu", "threads": threads, "max_batch": 8})


def request(bundle, config):
    with open(bundle / "bundle.toml", "rb") as f:
        m = tomllib.load(f)
    created = m["created"]
    m["created"] = created.isoformat().replace("+00:00", "Z") if isinstance(created, datetime.datetime) else created
    return json.dumps({"protocol": 1, "bundle_dir": str(bundle), "manifest": m, "config": config})


def timed(argv, stdin=None):
    t = time.perf_counter()
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    wall = (time.perf_counter() - t) * 1e3
    if r.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({r.returncode}): {r.stderr[-2000:]}")
    return wall, json.loads(r.stdout)


def run_plugin(plugin, text):
    wall, result = timed([plugin], text)
    if result["status"] != "pass":
        raise SystemExit(f"the plugin did not pass: {result['summary']}")
    m = result["metrics"]
    return wall, m["load_ms"], m["forward_ms_total"]


def run_python(bundle, threads):
    wall, result = timed([sys.executable, str(HERE / "python_reference_parity.py"), str(bundle), str(threads)])
    return wall, result["load_ms"], sum(result["forward_ms"].values())


def run_check(bundlegate, bundle, config):
    """`bundlegate check --json` with a torchscript-only config: the agent's whole pipeline
    (manifest, hashing, the plugin through the sandboxed runner). Returns its wall time, the
    torchscript check's duration as the pipeline measured it, and the plugin's own total_ms."""
    t = time.perf_counter()
    r = subprocess.run([bundlegate, "check", str(bundle), "--config", str(config), "--json"],
                       capture_output=True, text=True)
    wall = (time.perf_counter() - t) * 1e3
    if r.returncode != 0:
        raise SystemExit(f"bundlegate check failed ({r.returncode}): {r.stdout[-2000:]} {r.stderr[-2000:]}")
    report = json.loads(r.stdout)
    ts = next(c for c in report["checks"] if c["check"] == "torchscript")
    return wall, ts["duration_ms"], ts["metrics"]["total_ms"]


def check_against_python(bundlegate, bundle, tmp, args):
    """`bundlegate check` against a Python script doing the same checks (bundle.toml's sizes and
    hashes, then the parity cases: python_reference_parity.py --integrity), in alternating
    rounds (alternate.py): with the describe cache cold (BUNDLEGATE_CACHE_DIR=off: every run
    asks the plugin's --describe, as bundlegate did before issue 10) and warm."""
    same = "".join(f"{k} = {json.dumps(v)}\n" for k, v in SAME_WORK.items())
    config = tmp / "same-work.toml"
    config.write_text(f'require_parity = false\nplugin_dirs = ["{Path(args.plugin).parent}"]\n'
                      f'[paths]\nroot = "{tmp}/root"\n[[checks]]\nkind = "torchscript"\n{same}')
    cache = tmp / "describe-cache"
    check = f"{bundlegate} check {bundle} --config {config} --json"
    subprocess.run(f"BUNDLEGATE_CACHE_DIR={cache} {check}", shell=True, capture_output=True)
    spec = "\n".join([
        f"python (integrity + parity)\t{sys.executable} {HERE / 'python_reference_parity.py'} "
        f"{bundle} {args.threads} --integrity",
        f"check, describe cache cold\tBUNDLEGATE_CACHE_DIR=off {check}",
        f"check, describe cache warm\tBUNDLEGATE_CACHE_DIR={cache} {check}",
    ])
    print()
    r = subprocess.run([sys.executable, str(HERE / "alternate.py"), "--runs", str(args.runs),
                        "--title", "bundlegate check vs a Python script doing the same checks "
                        "(goal: <= 0.6x)"], input=spec, capture_output=True, text=True)
    print(r.stdout + r.stderr, end="")
    print(f"reproduce: /usr/bin/python3 {Path(__file__).relative_to(ROOT)} --runs {args.runs} "
          f"--threads {args.threads} --cases {args.cases}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--plugin", default=str(ROOT / "build" / "bin" / "bundlegate-check-torchscript"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cases", type=int, default=4)
    p.add_argument("--keep")
    args = p.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bundlegate-bench-"))
    bundle = tmp / "resnet18"
    if not bundle.exists():
        make_bundle(tmp, args.cases, args.threads)
    same, full = request(bundle, SAME_WORK), request(bundle, {})
    bundlegate = str(Path(args.plugin).parent / "bundlegate")
    config = tmp / "check.toml"
    config.write_text(f'plugin_dirs = ["{Path(args.plugin).parent}"]\n[paths]\nroot = "{tmp}/root"\n'
                      '[[checks]]\nkind = "torchscript"\n')
    samples = {"python": [], "plugin": [], "plugin-all": []}
    checks = []
    for _ in range(args.runs):
        samples["python"].append(run_python(bundle, args.threads))
        samples["plugin"].append(run_plugin(args.plugin, same))
        samples["plugin-all"].append(run_plugin(args.plugin, full))
        checks.append(run_check(bundlegate, bundle, config))
    base = statistics.median(s[0] for s in samples["python"])
    print(f"resnet18, {args.cases} cases of 1x3x224x224, threads={args.threads}, {args.runs} runs, "
          f"{os.cpu_count()} CPUs; wall = whole process, ms")
    print(f"{'':12}{'wall median':>12}{'wall min':>10}{'ratio':>8}{'load':>8}{'forwards':>10}")
    for name, rows in samples.items():
        wall = statistics.median(r[0] for r in rows)
        print(f"{name:12}{wall:12.0f}{min(r[0] for r in rows):10.0f}{wall / base:8.2f}"
              f"{statistics.median(r[1] for r in rows):8.0f}{statistics.median(r[2] for r in rows):10.0f}")
    check_wall = statistics.median(c[0] for c in checks)
    in_agent = statistics.median(c[1] for c in checks)
    own = statistics.median(c[2] for c in checks)
    plugin_all = statistics.median(r[0] for r in samples["plugin-all"])
    print(f"bundlegate check (same checks as plugin-all, through the agent's pipeline): "
          f"{check_wall:.0f} ms wall, {check_wall / base:.2f}x python")
    print(f"  the torchscript check as the pipeline timed it: {in_agent:.0f} ms; the plugin's own "
          f"work (total_ms): {own:.0f} ms; runner overhead per bundle (exec, sandbox, LibTorch "
          f"loading, JSON): {in_agent - own:.0f} ms")
    print(f"  the rest of bundlegate check (config, --describe at load, manifest, hashing): "
          f"{check_wall - in_agent:.0f} ms; plugin-all run bare: {plugin_all:.0f} ms")
    check_against_python(bundlegate, bundle, tmp, args)
    if not args.keep:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Cold vs warm per-check time of the TorchScript plugin, on small real models.

    /usr/bin/python3 scripts/bench/warm_worker_bench.py [--runs 10] [--models mlp,mobilenet_v3_small]
        [--cases 4]

Packs each model (gate_bench.py's packing: torchvision or a small MLP, random weights, seed 0,
threads = 1) and times, in alternating rounds, one check of it (the plugin config that does
the same work as the Python reference: deterministic "off", no batch or edge cases):
  cold   `bundlegate-check-torchscript` run once per request, exec to exit: what the agent does
         today (minus its sandbox): start a process, map and initialise LibTorch, load the
         model, run the cases
  warm   one `bundlegate-check-torchscript --serve` worker (plugins/sdk/serve.h), started once
         and kept: per request, the time from writing the frame to reading the whole response:
         fork a fresh child of the worker (LibTorch already initialised), load the model, run
         the cases, forward the result
Both run without the plugin sandbox (the frames ask for no layers), so the ratio is that of the
runtime's start-up alone; the agent's sandbox costs each path about the same per run
(sandbox_cost.py). gate_bench.py measures both paths through the agent, sandbox included.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gate_bench  # noqa: E402
import torchscript_plugin_bench  # noqa: E402

PLUGIN = HERE.parents[1] / "build" / "bin" / "bundlegate-check-torchscript"


class Worker:
    def __init__(self):
        self.proc = subprocess.Popen([str(PLUGIN), "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.hello = json.loads(self.proc.stdout.readline())
        self.n = 0

    def check(self, request):
        self.n += 1
        body = request.encode()
        t0 = time.perf_counter()
        frame = {"id": self.n, "timeout_ms": 120000, "max_output_bytes": 1 << 20,
                 "bundle_dir": json.loads(request)["bundle_dir"], "sandbox": {"layers": []},
                 "bytes": len(body)}
        self.proc.stdin.write(json.dumps(frame).encode() + b"\n" + body)
        self.proc.stdin.flush()
        env = json.loads(self.proc.stdout.readline())
        result = json.loads(self.proc.stdout.read(env["bytes"])) if env["bytes"] else None
        self.proc.stdout.read(env.get("stderr_bytes", 0))
        ms = (time.perf_counter() - t0) * 1000
        if env["outcome"] != "result" or result["status"] != "pass":
            raise SystemExit(f"warm check failed: {env} {result}")
        return ms

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def cold(request):
    t0 = time.perf_counter()
    r = subprocess.run([str(PLUGIN)], input=request, capture_output=True, text=True)
    ms = (time.perf_counter() - t0) * 1000
    if r.returncode != 0 or json.loads(r.stdout)["status"] != "pass":
        raise SystemExit(f"cold check failed: {r.stdout} {r.stderr[-1000:]}")
    return ms


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--models", default="mlp,mobilenet_v3_small")
    ap.add_argument("--cases", type=int, default=4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bundlegate-warm-bench-"))
    models = args.models.split(",")
    requests = {m: torchscript_plugin_bench.request(gate_bench.make_bundle(tmp, m, args.cases),
                                                    torchscript_plugin_bench.SAME_WORK) for m in models}
    worker = Worker()
    times = {(m, w): [] for m in models for w in ("cold", "warm")}
    try:
        for round_no in range(args.runs + 1):  # the first round warms up
            for m in models:
                c, w = cold(requests[m]), worker.check(requests[m])
                if round_no:
                    times[(m, "cold")].append(c)
                    times[(m, "warm")].append(w)
        worker_rss = rss_mib(worker.proc.pid)
    finally:
        worker.close()
    print(f"TorchScript plugin, one check ({args.cases} cases, threads = 1), median of {args.runs} "
          f"alternating rounds, {os.cpu_count()} CPUs, ms:")
    for m in models:
        c, w = statistics.median(times[(m, "cold")]), statistics.median(times[(m, "warm")])
        print(f"  {m:20} cold {c:7.0f}   warm {w:7.0f}   warm/cold {w / c:4.2f}x   saved {c - w:5.0f} ms per check")
    print(f"  the idle worker's RSS: {worker_rss:.0f} MiB (LibTorch mapped; shared with its children)")
    print(f"reproduce: /usr/bin/python3 scripts/bench/warm_worker_bench.py --runs {args.runs} "
          f"--models {args.models} --cases {args.cases}")
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

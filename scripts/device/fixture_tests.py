"""The TorchScript plugin's interop tests, for a machine that has only PyTorch and the plugin.

tests/integration/torchscript_plugin_test.cpp checks every fixture of
tests/python/make_torch_fixtures.py through the plugin, but it is part of the agent's test suite
and needs the agent's libraries. Here the same fixtures are made with this machine's PyTorch
(the producer's side on its torch version) and each is checked by the plugin built against this
machine's LibTorch, expecting the verdict that FIXTURES names. Where CUDA is usable, the
passing fixtures are checked again on CUDA (devices = ["cuda"], tf32 = "off": expected outputs
were recorded on the CPU in full float32).

    fixture_tests.py --plugin BIN --out DIR [--python PY] [--jobs N]

Prints one line per check and writes DIR/fixture-tests.json; exits 1 if any check failed.
"""

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from plugin_runner import run_plugin

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
MAKE_FIXTURES = REPO / "tests" / "python" / "make_torch_fixtures.py"


def expected_verdicts(python):
    out = subprocess.run([python, str(MAKE_FIXTURES), "--list"], capture_output=True, text=True,
                         check=True)
    return dict(line.split("\t") for line in out.stdout.splitlines() if line.strip())


def check_one(plugin, bundle, expected, config):
    """(ok, what happened) for one fixture against its expected verdict."""
    if expected == "hang":
        run = run_plugin(plugin, bundle, config, timeout_s=15)
        return run.timed_out, run.verdict, run
    if expected == "unbounded memory":
        run = run_plugin(plugin, bundle, config, timeout_s=120, memory_bytes=6 << 30)
        summary = run.result.get("summary", "")
        contained = (run.verdict == "fail:parity-mismatch" and "allocate" in summary) or \
            run.returncode < 0
        return contained, run.verdict, run
    run = run_plugin(plugin, bundle, config, timeout_s=300)
    want = expected if expected == "pass" or expected.startswith("crash") else f"fail:{expected}"
    return run.verdict == want, run.verdict, run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plugin", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--python", default=sys.executable)
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--cuda", action="store_true", help="also check the passing fixtures on CUDA")
    args = p.parse_args(argv)
    out = Path(args.out)
    fixtures = out / "fixtures"
    if not fixtures.exists():
        subprocess.run([args.python, str(MAKE_FIXTURES), str(fixtures)], check=True)
    expected = expected_verdicts(args.python)

    jobs = [(name, verdict, {}) for name, verdict in expected.items()]
    if args.cuda:
        jobs += [(name, verdict, {"devices": ["cuda"], "tf32": "off"})
                 for name, verdict in expected.items() if verdict == "pass"]

    def run(job):
        name, verdict, config = job
        ok, got, detail = check_one(args.plugin, fixtures / name, verdict, config)
        return {"fixture": name, "config": config, "expected": verdict, "got": got, "ok": ok,
                "wall_s": round(detail.wall_s, 3), "summary": detail.result.get("summary", ""),
                "stderr_tail": "" if ok else detail.stderr_tail}

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run, jobs))
    for r in results:
        where = " on cuda" if r["config"] else ""
        print(f"{'ok  ' if r['ok'] else 'FAIL'} {r['fixture']}{where}: expected {r['expected']}, "
              f"got {r['got']} ({r['wall_s']} s)" + ("" if r["ok"] else f"\n     {r['summary']}"))
    failed = [r for r in results if not r["ok"]]
    (out / "fixture-tests.json").write_text(json.dumps(results, indent=1))
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

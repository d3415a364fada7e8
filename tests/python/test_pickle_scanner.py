"""The pickle walker (plugins/modelscan/pickle_scanner.h) against Python's own unpickler.

For benign objects pickled at every protocol 0-5 (containers, shared and recursive references,
bytes, sets, big numbers, framed pickles, stdlib classes that pickle through REDUCE, NEWOBJ and
BUILD), the walker must find no structural problem, and name exactly the globals that Python's
Unpickler resolves (find_class, recorded) while loading the same bytes. Pickles of
torch.save, torch.jit.save archives walk clean with only allowed globals."""

import argparse
import collections
import datetime
import decimal
import fractions
import io
import json
import os
import pickle
import subprocess
import tempfile
import types
import unittest
from pathlib import Path

SCANNER = os.environ.get("BG_MODEL_SCAN", "")


class Recorder(pickle.Unpickler):
    def __init__(self, data):
        super().__init__(io.BytesIO(data))
        self.seen = []

    def find_class(self, module, name):
        if (module, name) not in self.seen:
            self.seen.append((module, name))
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return pid


def benign_objects():
    shared = ["shared", "text"]
    recursive = [1, 2]
    recursive.append(recursive)
    return {
        "containers": {"a": [1, 2.5, None, True, False], (1, 2): {"nested": ({}, [], ())}},
        "shared": [shared, shared, {"k": shared}],
        "recursive": recursive,
        "numbers": [0, -1, 255, 65536, -(2 ** 31), 2 ** 63, 2 ** 200, -(2 ** 70), 1e300, -0.0],
        "text": ["", "ascii", "ünïcödé", "\\backslash\n", "x" * 300, b"", b"\x00\xff", b"y" * 300],
        "bytearray": bytearray(b"abc"),
        "sets": [set(), {1, 2}, frozenset({3}), frozenset()],
        "complex": complex(1, 2),
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "framed": list(range(20000)),
        "stdlib": [datetime.date(2026, 11, 28), decimal.Decimal("1.5"), fractions.Fraction(1, 3),
                   argparse.Namespace(a=1), types.SimpleNamespace(b=[1])],
    }


def scan(paths, checkpoint=False):
    args = [SCANNER, "--pickle"] + (["--checkpoint"] if checkpoint else []) + [str(p) for p in paths]
    out = subprocess.run(args, capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@unittest.skipUnless(SCANNER, "BG_MODEL_SCAN (tests/tools/model_scan.cpp) is not set")
class PickleScannerDifferential(unittest.TestCase):
    def test_benign_pickles_walk_clean_and_name_what_python_resolves(self):
        cases = []
        with tempfile.TemporaryDirectory() as d:
            for proto in range(6):
                for name, obj in benign_objects().items():
                    data = pickle.dumps(obj, protocol=proto)
                    path = Path(d, f"{name}-{proto}.pkl")
                    path.write_bytes(data)
                    recorder = Recorder(data)
                    recorder.load()
                    cases.append((path, recorder.seen))
            reports = scan([p for p, _ in cases])
        self.assertEqual(len(reports), len(cases))
        for (path, seen), report in zip(cases, reports):
            with self.subTest(pickle=path.name):
                structural = [p for p in report["problems"] if "is not allowed" not in p]
                self.assertEqual(structural, [])
                named = [(g["module"], g["name"]) for g in report["globals"]]
                self.assertEqual(named, seen)
                self.assertEqual(report["disallowed_global"],
                                 any(not g["allowed"] for g in report["globals"]))

    def test_persistent_ids_are_refused_unless_torch_storages(self):
        class Persisting(pickle.Pickler):
            def persistent_id(self, obj):
                return "file:/etc/passwd" if obj == "secret" else None

        with tempfile.TemporaryDirectory() as d:
            paths = []
            for proto in (0, 2):
                buf = io.BytesIO()
                Persisting(buf, protocol=proto).dump(["secret"])
                paths.append(Path(d, f"persid-{proto}.pkl"))
                paths[-1].write_bytes(buf.getvalue())
            reports = scan(paths)
        self.assertTrue(all(not r["ok"] for r in reports))
        self.assertIn("PERSID", reports[0]["problems"][0])
        self.assertIn("persistent id", reports[1]["problems"][0])

    def test_torch_pickles_walk_clean_with_allowed_globals_only(self):
        import torch  # noqa: PLC0415 - the Debian python has it; the test needs it here only
        import zipfile  # noqa: PLC0415

        buf = io.BytesIO()
        torch.save({"w": torch.ones(3), "p": torch.nn.Parameter(torch.zeros(2))}, buf)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z, tempfile.TemporaryDirectory() as d:
            name = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            path = Path(d, "data.pkl")
            path.write_bytes(z.read(name))
            report = scan([path], checkpoint=True)[0]
        self.assertTrue(report["ok"], report["problems"])
        self.assertEqual(len(report["storages"]), 2)


if __name__ == "__main__":
    unittest.main()

"""The control for the hostile models (hostile_models.py): every payload that the scan must
stop is live. Read the naive way (pickle.loads, torch.load, torch.jit.load, sh, Python's
zipfile), each creates its marker file; the integration tests (hostile_model_test.cpp,
agent_parity_test.cpp) show that through the plugin and the agent, none does."""

import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import hostile_models

HERE = Path(__file__).resolve().parent


class HostileModelControl(unittest.TestCase):
    def test_every_live_payload_runs_when_a_naive_reader_loads_it(self):
        live = sorted(n for n, (_, _, how, _) in hostile_models.CASES.items() if how)
        self.assertGreaterEqual(len(live), 15)
        with tempfile.TemporaryDirectory() as markers:
            out = subprocess.run(
                [sys.executable, str(HERE / "hostile_models.py"), "control", markers],
                capture_output=True, text=True, timeout=900, check=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
        self.assertEqual(sorted(result), live)
        dead = [name for name, ran in result.items() if not ran]
        self.assertEqual(dead, [], "these payloads did not run in the control")

    def test_the_models_are_written_and_distinct(self):
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([sys.executable, str(HERE / "hostile_models.py"), "write",
                            d + "/models", d + "/markers"], check=True, capture_output=True)
            files = sorted(Path(d, "models").glob("*.pt"))
            self.assertEqual(len(files), len(hostile_models.CASES) + len(hostile_models.CLEAN))
            self.assertEqual(len({f.read_bytes() for f in files}), len(files))
            ran = [n for n in hostile_models.CASES if Path(d, "markers", n).exists()]
            self.assertEqual(ran, [])  # writing them runs nothing


if __name__ == "__main__":
    unittest.main()

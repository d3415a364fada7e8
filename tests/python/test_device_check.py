"""The device checks' Python side (scripts/device/), rehearsed on the CPU: the parity matrix
runs one small model end to end through the real plugin, and judges the defaults; the runner
builds requests the plugin accepts. The GPU rows need the accelerator machine
(scripts/device-check); this keeps the script from rotting between device runs."""

import json
import os
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts" / "device"))
PLUGIN = os.environ.get("BUNDLEGATE_TORCHSCRIPT_PLUGIN", "")

import parity_matrix  # noqa: E402
import plugin_runner  # noqa: E402


@unittest.skipUnless(PLUGIN and Path(PLUGIN).exists(), "the TorchScript plugin was not built")
class ParityMatrixTest(unittest.TestCase):
    def test_one_model_on_the_cpu(self):
        with tempfile.TemporaryDirectory() as tmp:
            self.assertEqual(0, parity_matrix.main(["--plugin", PLUGIN, "--out", tmp, "--jobs", "2",
                                                    "--models", "dict_head", "--dtypes", "float32"]))
            report = json.loads((Path(tmp) / "matrix.json").read_text())
            kinds = {r["kind"]: r for r in report["rows"] if r["checked"] == "cpu"}
            self.assertEqual("pass", kinds["honest"]["verdict"])
            for noise in ("perturbed 0.001", "perturbed 0.01"):
                self.assertEqual("fail:parity-mismatch", kinds[noise]["verdict"], noise)
                self.assertGreater(kinds[noise]["min_rtol"], 1.3e-6)
            self.assertTrue(all(r["defaults_ok"] for r in report["rows"]))
            self.assertIn("| dict_head | float32 | honest | cpu | cpu |",
                          (Path(tmp) / "matrix.md").read_text())

    def test_a_timeout_is_a_hang(self):
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "sleeper"
            script.write_text("#!/bin/sh\nexec sleep 30\n")
            script.chmod(0o755)
            (Path(tmp) / "b").mkdir()
            (Path(tmp) / "b" / "bundle.toml").write_text('format = 1\nname = "x"\n')
            run = plugin_runner.run_plugin(script, Path(tmp) / "b", timeout_s=1)
            self.assertEqual("hang", run.verdict)


if __name__ == "__main__":
    unittest.main()

"""bundlegate_pack.pack(): the bundle it writes, the model it ships, what it refuses."""

import hashlib
import os
import unittest
from pathlib import Path

import torch
from torch import nn

import bundlegate_pack
from pack_test_util import COMMIT, PackTestCase, TwoHeads, cases


class BundleContentTest(PackTestCase):
    def test_bundle_toml_follows_the_spec(self):
        bundle = self.pack(inference={"device": "cpu", "threads": 2, "max_batch": 16},
                           tolerance={"logits": (1e-4, 1e-5)}, created="2026-11-28T10:00:00Z",
                           branch="main", repo_url="git@example.com:acme/x.git")
        m = self.manifest(bundle)
        self.assertEqual(m["format"], 1)
        self.assertEqual((m["name"], m["version"]), ("two-heads", "1.0.0"))
        self.assertEqual(m["created"].isoformat(), "2026-11-28T10:00:00+00:00")
        self.assertEqual(m["source"], {"repo": "git@example.com:acme/x.git", "commit": COMMIT, "dirty": False,
                                       "branch": "main", "lockfile_path": "requirements.lock",
                                       "preprocessing_path": "conf/preprocess.toml"})
        self.assertEqual((m["model"]["path"], m["model"]["format"]), ("model.pt", "torchscript"))
        self.assertEqual(m["inference"], {"device": "cpu", "threads": 2, "max_batch": 16})
        self.assertEqual(m["dependencies"], {"lockfile": "requirements.lock"})
        self.assertEqual(m["preprocessing"], {"version": "v2", "spec": "preprocess.toml"})
        self.assertEqual(m["parity"]["inputs"], "parity/inputs.safetensors")
        self.assertEqual(m["parity"]["expected"], "parity/expected.safetensors")
        self.assertEqual(m["parity"]["tolerance"], {"logits": {"rtol": 1e-4, "atol": 1e-5}})
        self.assertNotIn("metadata", m)

    def test_every_file_is_listed_with_its_true_size_and_hash(self):
        bundle = self.pack()
        files = self.manifest(bundle)["files"]
        on_disk = sorted(p.relative_to(bundle).as_posix() for p in Path(bundle).rglob("*") if p.is_file())
        self.assertEqual(sorted(f["path"] for f in files), [p for p in on_disk if p != "bundle.toml"])
        for f in files:
            data = (Path(bundle) / f["path"]).read_bytes()
            self.assertEqual(f["size"], len(data))
            self.assertEqual(f["sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual((Path(bundle) / "requirements.lock").read_text(), "torch==1.13.0\n")

    def test_signature_lists_parameters_and_buffers(self):
        sig = {e["name"]: e for e in self.manifest(self.pack())["model"]["signature"]}
        self.assertEqual(sig["fc.weight"], {"name": "fc.weight", "kind": "parameter", "shape": [3, 4], "dtype": "float32"})
        self.assertEqual(sig["bn.running_mean"]["kind"], "buffer")
        self.assertEqual(sig["bn.num_batches_tracked"]["dtype"], "int64")
        self.assertEqual(sig["bn.num_batches_tracked"]["shape"], [])
        self.assertEqual(set(sig), set(TwoHeads().state_dict()))
        self.assertNotIn("signature", self.manifest(self.pack(out=self.tmp / "nosig", signature=False))["model"])

    def test_parity_files_hold_inputs_and_eval_mode_outputs(self):
        model, inputs = TwoHeads(), cases()
        bundle = self.pack(model=model, inputs=inputs)
        saved_in = bundlegate_pack.read_safetensors(Path(bundle) / "parity/inputs.safetensors")
        saved_out = bundlegate_pack.read_safetensors(Path(bundle) / "parity/expected.safetensors")
        self.assertEqual(sorted(saved_in), ["a.0", "b.0"])
        self.assertTrue(torch.equal(saved_in["b.0"], inputs["b"]))
        self.assertEqual(sorted(saved_out), ["a.label", "a.logits", "b.label", "b.logits"])
        model.eval()
        with torch.no_grad():
            self.assertTrue(torch.equal(saved_out["a.logits"], model(inputs["a"][0])["logits"]))
        self.assertEqual(saved_out["a.label"].dtype, torch.int64)

    def test_the_shipped_model_is_torchscript_in_eval_mode_with_its_preprocessing_version(self):
        bundle = self.pack()
        module = torch.jit.load(str(Path(bundle) / "model.pt"))
        self.assertEqual(module.preprocessing_version, "v2")
        self.assertFalse(any(m.training for m in module.modules()))
        plain = self.pack(out=self.tmp / "plain", set_module_attribute=False)
        self.assertFalse(hasattr(torch.jit.load(str(Path(plain) / "model.pt")), "preprocessing_version"))

    def test_a_traced_or_prescripted_model_is_accepted(self):
        traced = self.pack(model=nn.Sequential(nn.Linear(4, 2)), out=self.tmp / "traced", trace=True)
        self.assertTrue(torch.jit.load(str(Path(traced) / "model.pt")).preprocessing_version == "v2")
        scripted = torch.jit.script(TwoHeads())
        scripted.preprocessing_version = "old"  # an existing attribute is overwritten
        out = self.pack(model=scripted, out=self.tmp / "scripted")
        self.assertEqual(torch.jit.load(str(Path(out) / "model.pt")).preprocessing_version, "v2")

    def test_tuple_outputs_are_numbered(self):
        class Pair(nn.Module):
            def forward(self, x):
                return x * 2, [x.sum(1), x > 0]

        class Flat(nn.Module):
            def forward(self, x):
                return x * 2, x > 0

        with self.assertRaisesRegex(bundlegate_pack.PackError, "output '1' is list"):
            self.pack(model=Pair(), out=self.tmp / "nested")
        out = bundlegate_pack.read_safetensors(Path(self.pack(model=Flat(), out=self.tmp / "flat")) / "parity/expected.safetensors")
        self.assertEqual(sorted(out), ["a.0", "a.1", "b.0", "b.1"])
        self.assertEqual(out["a.1"].dtype, torch.bool)


class AtomicWriteTest(PackTestCase):
    def test_the_bundle_appears_by_rename_from_a_dot_staging_directory(self):
        target = self.tmp / "inbox" / "bundle"
        stale = self.tmp / "inbox" / ".bundle.tmp"
        stale.mkdir(parents=True)
        (stale / "junk").write_text("left by a crashed run")
        self.pack(out=target)
        self.assertTrue((target / "bundle.toml").is_file())
        self.assertEqual(sorted(os.listdir(self.tmp / "inbox")), ["bundle"])

    def test_an_existing_target_is_refused(self):
        target = self.pack()
        with self.assertRaisesRegex(bundlegate_pack.PackError, "exists already"):
            self.pack(out=target)

    def test_a_failure_leaves_nothing_behind(self):
        class Broken(nn.Module):
            def forward(self, x):
                return "not a tensor"

        target = self.tmp / "inbox" / "broken"
        with self.assertRaises(bundlegate_pack.PackError):
            self.pack(model=Broken(), out=target)
        with self.assertRaises(bundlegate_pack.PackError):
            self.pack(out=target, extra_files={"../escape": str(self.lock)})
        self.assertFalse(target.exists())
        self.assertFalse((target.parent / ".broken.tmp").exists())


class ValidationTest(PackTestCase):
    def test_bad_names_versions_cases_and_dates_are_refused(self):
        bad = [
            (dict(), {"bad case": (torch.ones(1),)}, "case name"),
            (dict(created="yesterday"), None, "RFC 3339"),
            (dict(commit="abc"), None, "full lower-case hex"),
            (dict(metadata={"k": {"nested": 1}}), None, "metadata"),
            (dict(inference={"device": "tpu"}), None, "inference.device"),
            (dict(tolerance={"x": (-1, 0)}), None, "must be >= 0"),
        ]
        for kwargs, inputs, message in bad:
            with self.subTest(message=message):
                with self.assertRaisesRegex(bundlegate_pack.PackError, message):
                    self.pack(inputs=inputs, out=self.tmp / "x", **kwargs)
        with self.assertRaisesRegex(bundlegate_pack.PackError, "name"):
            bundlegate_pack.pack(TwoHeads(), cases(), self.tmp / "y", name="Bad Name", version="1",
                                 lockfile=self.lock, preprocessing_spec=self.spec, preprocessing_version="v2",
                                 commit=COMMIT, dirty=False, lockfile_path="a", preprocessing_path="b")

    def test_unsupported_input_dtypes_are_refused(self):
        with self.assertRaisesRegex(bundlegate_pack.PackError, "not supported"):
            self.pack(inputs={"a": (torch.ones(2, 4, dtype=torch.complex64),)})

    def test_a_scripted_model_that_disagrees_with_eager_is_refused(self):
        class Sneaky(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 2)

            def forward(self, x):
                if torch.jit.is_scripting():
                    return self.fc(x) + 1
                return self.fc(x)

        with self.assertRaisesRegex(bundlegate_pack.PackError, "TorchScript differs from eager"):
            self.pack(model=Sneaky())

    def test_metadata_is_written_when_given(self):
        m = self.manifest(self.pack(metadata={"run_id": "abc", "epoch": 3}))
        self.assertEqual(m["metadata"], {"epoch": 3, "run_id": "abc"})


class RefreshFilesTest(PackTestCase):
    def test_refresh_files_rehashes_after_an_edit(self):
        bundle = self.pack()
        (Path(bundle) / "model.pt").write_bytes(b"changed")
        bundlegate_pack.refresh_files(bundle)
        entry = next(f for f in self.manifest(bundle)["files"] if f["path"] == "model.pt")
        self.assertEqual(entry["size"], 7)
        self.assertEqual(entry["sha256"], hashlib.sha256(b"changed").hexdigest())


if __name__ == "__main__":
    unittest.main()

"""bundlegate_pack.py --sign-key / --ssh-key: a packed bundle arrives signed (the signatures are
written in the staging directory, before the rename), and a signing failure leaves nothing."""

import base64
import json
import subprocess
from pathlib import Path

import bundlegate_pack
from pack_test_util import PackTestCase


class PackSigningTest(PackTestCase):
    def keys(self):
        ec = self.tmp / "release.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-out", str(ec)], check=True, capture_output=True)
        ssh = self.tmp / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(ssh)], check=True, capture_output=True)
        return ec, ssh

    def test_a_packed_bundle_carries_both_signatures(self):
        ec, ssh = self.keys()
        bundle = self.pack(sign_key=ec, ssh_key=ssh)
        self.assertTrue((bundle / "model.sig").is_file())
        self.assertTrue((bundle / "bundle.toml.sig").is_file())
        listed = [f["path"] for f in self.manifest(bundle)["files"]]
        self.assertNotIn("model.sig", listed)
        self.assertNotIn("bundle.toml.sig", listed)
        sig = json.loads((bundle / "model.sig").read_text())
        statement = json.loads(base64.b64decode(sig["dsseEnvelope"]["payload"]))
        names = [r["name"] for r in statement["predicate"]["resources"]]
        self.assertIn("bundle.toml", names)
        self.assertIn("bundle.toml.sig", names)
        self.assertIn("model.pt", names)
        self.assertEqual(statement["subject"][0]["name"], "bundle")  # the target's name, not the staging's

    def test_a_signing_failure_leaves_nothing_behind(self):
        out = self.tmp / "inbox" / "bundle"
        with self.assertRaisesRegex(bundlegate_pack.PackError, "signing"):
            self.pack(sign_key=self.tmp / "no-such-key.pem")
        self.assertFalse(out.exists())
        self.assertEqual([p.name for p in (self.tmp / "inbox").iterdir()], [])

    def test_the_cli_signs_with_ssh_keygen(self):
        _, ssh = self.keys()
        model = self.tmp / "model.pt"
        import torch
        from pack_test_util import TwoHeads, cases
        torch.jit.save(torch.jit.script(TwoHeads().eval()), str(model))
        torch.save(cases(), str(self.tmp / "inputs.pt"))
        r = subprocess.run(["/usr/bin/python3", bundlegate_pack.__file__, "--model", str(model), "--inputs",
                            str(self.tmp / "inputs.pt"), "--name", "cli-signed", "--version", "1", "--lockfile",
                            str(self.lock), "--preprocessing-spec", str(self.spec), "--preprocessing-version", "v2",
                            "--commit", "0" * 40, "--no-dirty", "--lockfile-path", "requirements.lock",
                            "--preprocessing-path", "conf/preprocess.toml", "--ssh-key", str(ssh),
                            "--out", str(self.tmp / "out")], capture_output=True, text=True, check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue((Path(r.stdout.strip()) / "bundle.toml.sig").is_file())

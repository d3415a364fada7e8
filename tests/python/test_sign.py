"""The producer's signatures (scripts/bundlegate_sign.py, and bundlegate_pack.py --sign-key /
--ssh-key): model.sig in model_signing's format, checked here field by field with
python3-cryptography, and bundle.toml.sig as ssh-keygen makes and verifies it. Keys are made at
test time by openssl and ssh-keygen."""

import base64
import hashlib
import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import bundlegate_sign

SCRIPT = Path(bundlegate_sign.__file__)


def run(*argv, **kwargs):
    return subprocess.run(list(argv), capture_output=True, text=True, check=False, **kwargs)


class SignTestCase(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bundlegate-sign-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.bundle = self.tmp / "my-bundle"
        for rel, text in {"bundle.toml": "format = 1\n", "model.pt": "weights", "a.txt": "a",
                          "a/b": "nested", "parity/inputs.safetensors": "in"}.items():
            (self.bundle / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.bundle / rel).write_text(text)

    def ec_key(self, curve="P-384"):
        key = self.tmp / f"{curve}.pem"
        r = run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}", "-out", str(key))
        self.assertEqual(r.returncode, 0, r.stderr)
        return key

    def ssh_key(self, name="k"):
        key = self.tmp / name
        r = run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key))
        self.assertEqual(r.returncode, 0, r.stderr)
        return key

    def load(self):
        bundle = json.loads((self.bundle / "model.sig").read_text())
        payload = base64.b64decode(bundle["dsseEnvelope"]["payload"])
        return bundle, payload, json.loads(payload)


class ModelSigningFormatTest(SignTestCase):
    def test_the_key_method_writes_model_signings_bundle(self):
        for curve, hash_cls in (("P-256", hashes.SHA256), ("P-384", hashes.SHA384), ("P-521", hashes.SHA512)):
            with self.subTest(curve=curve):
                key_path = self.ec_key(curve)
                bundlegate_sign.sign_model_signing(self.bundle, key_path)
                bundle, payload, statement = self.load()
                self.assertEqual(bundle["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json")
                env = bundle["dsseEnvelope"]
                self.assertEqual(env["payloadType"], "application/vnd.in-toto+json")
                self.assertEqual(len(env["signatures"]), 1)
                key = serialization.load_pem_private_key(key_path.read_bytes(), None)
                pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
                self.assertEqual(bundle["verificationMaterial"]["publicKey"]["hint"], hashlib.sha256(pem).hexdigest())
                self.assertEqual(bundle["verificationMaterial"]["tlogEntries"], [])
                pae = b"DSSEv1 28 application/vnd.in-toto+json %d %s" % (len(payload), payload)
                key.public_key().verify(base64.b64decode(env["signatures"][0]["sig"]), pae, ec.ECDSA(hash_cls()))

    def test_the_statement_lists_every_file_in_model_signings_order(self):
        bundlegate_sign.sign_model_signing(self.bundle, self.ec_key())
        _, _, st = self.load()
        self.assertEqual(st["_type"], "https://in-toto.io/Statement/v1")
        self.assertEqual(st["predicateType"], "https://model_signing/signature/v1.0")
        names = [r["name"] for r in st["predicate"]["resources"]]
        # Component order: "a/b" before "a.txt" (bytewise order would swap them).
        self.assertEqual(names, ["a/b", "a.txt", "bundle.toml", "model.pt", "parity/inputs.safetensors"])
        for r in st["predicate"]["resources"]:
            self.assertEqual(r["algorithm"], "sha256")
            self.assertEqual(r["digest"], hashlib.sha256((self.bundle / r["name"]).read_bytes()).hexdigest())
        root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in st["predicate"]["resources"]))
        self.assertEqual(st["subject"], [{"name": "my-bundle", "digest": {"sha256": root.hexdigest()}}])
        self.assertEqual(st["predicate"]["serialization"],
                         {"method": "files", "hash_type": "sha256", "allow_symlinks": False, "ignore_paths": ["model.sig"]})
        # Signing again ignores the old model.sig.
        bundlegate_sign.sign_model_signing(self.bundle, self.ec_key())
        self.assertNotIn("model.sig", [r["name"] for r in self.load()[2]["predicate"]["resources"]])

    def test_ignore_paths_are_recorded_and_may_not_cover_bundle_toml(self):
        bundlegate_sign.sign_model_signing(self.bundle, self.ec_key(), ignore_paths=["parity/"])
        _, _, st = self.load()
        self.assertNotIn("parity/inputs.safetensors", [r["name"] for r in st["predicate"]["resources"]])
        self.assertEqual(st["predicate"]["serialization"]["ignore_paths"], ["model.sig", "parity"])
        with self.assertRaisesRegex(bundlegate_sign.SignError, "bundle.toml unsigned"):
            bundlegate_sign.sign_model_signing(self.bundle, self.ec_key(), ignore_paths=["bundle.toml"])

    def test_the_certificate_method_carries_the_chain(self):
        key = self.ec_key()
        cert = self.tmp / "cert.pem"
        r = run("openssl", "req", "-x509", "-key", str(key), "-subj", "/CN=signer", "-days", "2", "-out", str(cert))
        self.assertEqual(r.returncode, 0, r.stderr)
        bundlegate_sign.sign_model_signing(self.bundle, key, certificate=cert, chain=[cert])
        bundle, _, _ = self.load()
        certs = bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]
        self.assertEqual(len(certs), 2)
        der = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"], capture_output=True, check=True).stdout
        self.assertEqual(base64.b64decode(certs[0]["rawBytes"]), der)
        with self.assertRaisesRegex(bundlegate_sign.SignError, "not the private key"):
            bundlegate_sign.sign_model_signing(self.bundle, self.ec_key("P-256"), certificate=cert)

    def test_refuses_keys_model_signing_cannot_use_and_symlinks(self):
        rsa = self.tmp / "rsa.pem"
        run("openssl", "genpkey", "-algorithm", "RSA", "-out", str(rsa))
        with self.assertRaisesRegex(bundlegate_sign.SignError, "ECDSA"):
            bundlegate_sign.sign_model_signing(self.bundle, rsa)
        (self.bundle / "link").symlink_to("model.pt")
        with self.assertRaisesRegex(bundlegate_sign.SignError, "symlink"):
            bundlegate_sign.sign_model_signing(self.bundle, self.ec_key())


class SshSignatureTest(SignTestCase):
    def test_bundle_toml_sig_verifies_with_ssh_keygen(self):
        key = self.ssh_key()
        bundlegate_sign.sign_ssh(self.bundle, key)
        allowed = self.tmp / "allowed"
        allowed.write_text("me@acme " + (self.tmp / "k.pub").read_text())
        r = run("ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", "me@acme", "-n", "bundlegate",
                "-s", str(self.bundle / "bundle.toml.sig"), input=(self.bundle / "bundle.toml").read_text())
        self.assertEqual(r.returncode, 0, r.stderr)
        # Signing twice replaces the signature (ssh-keygen alone would refuse).
        bundlegate_sign.sign_ssh(self.bundle, key)

    def test_both_formats_ssh_first_so_model_sig_covers_it(self):
        written = bundlegate_sign.sign_bundle(self.bundle, sign_key=self.ec_key(), ssh_key=self.ssh_key())
        self.assertEqual([p.name for p in written], ["bundle.toml.sig", "model.sig"])
        self.assertIn("bundle.toml.sig", [r["name"] for r in self.load()[2]["predicate"]["resources"]])


class CommandLineTest(SignTestCase):
    def test_exit_codes(self):
        python = "/usr/bin/python3"
        self.assertEqual(run(python, str(SCRIPT), str(self.bundle)).returncode, 2)
        bad = run(python, str(SCRIPT), str(self.bundle), "--sign-key", str(self.tmp / "missing.pem"))
        self.assertEqual(bad.returncode, 1)
        self.assertIn("bundlegate_sign:", bad.stderr)
        ok = run(python, str(SCRIPT), str(self.bundle), "--sign-key", str(self.ec_key()), "--ssh-key", str(self.ssh_key()))
        self.assertEqual(ok.returncode, 0, ok.stderr)
        self.assertEqual(ok.stdout.split(), [str(self.bundle / "bundle.toml.sig"), str(self.bundle / "model.sig")])


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/python3
"""bundlegate_sign: sign a bundlegate bundle, the producer's side of the gate's signature check.

Two formats, either or both:

  model.sig        OpenSSF model signing (sigstore/model-transparency's `model_signing`, 1.1 and
                   later): a Sigstore bundle (JSON, media type v0.3) holding a DSSE envelope of an
                   in-toto Statement whose predicate (https://model_signing/signature/v1.0) lists
                   every file of the bundle with its SHA-256, bundle.toml included. The key method
                   names the key by its hint (hex SHA-256 of its PEM); the certificate method
                   carries the signing certificate and its chain. ECDSA P-256/P-384/P-521, hashed
                   with SHA-256/384/512 by curve size. The real `model_signing sign key` writes the
                   same thing; this module exists because the tool is not packaged in Debian.

  bundle.toml.sig  an SSH signature of bundle.toml (which lists every file's size and SHA-256),
                   made by `ssh-keygen -Y sign -n bundlegate`, verified against an allowed_signers
                   file.

When both are asked for, bundle.toml.sig is made first, so that model.sig signs it too.

Python API (needs python3-cryptography for model.sig, ssh-keygen for bundle.toml.sig):

    import bundlegate_sign
    bundlegate_sign.sign_ssh("bundle-dir", "~/.ssh/id_ed25519")
    bundlegate_sign.sign_model_signing("bundle-dir", "release-key.pem")
    bundlegate_sign.sign_model_signing("bundle-dir", "leaf-key.pem", certificate="leaf.pem",
                                       chain=["intermediate.pem"])

Command line (signs an existing bundle in place; bundlegate_pack.py does it while packing):

    bundlegate_sign.py DIR [--sign-key PEM [--sign-cert PEM [--sign-chain PEM ...]]]
                           [--ssh-key FILE [--ssh-namespace NS]] [--ignore-path P ...]

Exit status: 0 signed, 1 signing failed, 2 usage error.
"""

import argparse
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

MODEL_SIG = "model.sig"
SSH_SIG = "bundle.toml.sig"
MANIFEST = "bundle.toml"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"


class SignError(Exception):
    """The bundle cannot be signed as asked; the message says why."""


def pae(payload_type, payload):
    """DSSE v1 pre-authentication encoding: what is actually signed."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _under(rel, prefix):
    prefix = prefix.rstrip("/")
    return rel == prefix or rel.startswith(prefix + "/")


def resources(bundle_dir, ignore_paths=()):
    """[{name, algorithm, digest}] for every file but model.sig and the ignore paths, in
    model_signing's order (path component by component, as Python sorts PurePosixPath)."""
    root = Path(bundle_dir)
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root).as_posix()
        if rel == MODEL_SIG or any(_under(rel, i) for i in ignore_paths):
            continue
        if p.is_symlink():
            raise SignError(f"{rel} is a symlink: a bundle holds regular files only")
        if p.is_file():
            out.append({"name": rel, "algorithm": "sha256", "digest": sha256_file(p)})
        elif not p.is_dir():
            raise SignError(f"{rel} is neither a file nor a directory")
    out.sort(key=lambda r: r["name"].split("/"))
    return out


def statement(subject_name, resource_list, ignore_paths):
    """The in-toto Statement model_signing signs; the subject digest is SHA-256 over the
    resources' raw digests in listed order."""
    root = hashlib.sha256()
    for r in resource_list:
        root.update(bytes.fromhex(r["digest"]))
    serialization = {"method": "files", "hash_type": "sha256", "allow_symlinks": False}
    if ignore_paths:
        serialization["ignore_paths"] = list(ignore_paths)
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": subject_name, "digest": {"sha256": root.hexdigest()}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"serialization": serialization, "resources": resource_list},
    }


def _crypto():
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
    except ImportError as e:  # pragma: no cover - bootstrap installs it
        raise SignError("model.sig needs python3-cryptography (apt-get install python3-cryptography)") from e
    return x509, hashes, serialization, ec


def _hash_for(key, hashes):
    size = key.curve.key_size
    if size == 256:
        return hashes.SHA256()
    if size == 384:
        return hashes.SHA384()
    if size == 521:
        return hashes.SHA512()
    raise SignError(f"unsupported curve {key.curve.name}")


def key_hint(public_key):
    """model_signing's publicKey.hint: hex SHA-256 of the key's SubjectPublicKeyInfo PEM."""
    _, _, serialization, _ = _crypto()
    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def _pem_certificates(x509, path):
    """Every CERTIFICATE block of a PEM file (cryptography 38 has no load_pem_x509_certificates)."""
    text = path.read_bytes()
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
    if not blocks:
        raise SignError(f"{path}: no PEM CERTIFICATE block")
    return [x509.load_pem_x509_certificate(b) for b in blocks]


def _b64(data):
    return base64.b64encode(data).decode("ascii")


def _write_atomic(path, data):
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def sign_model_signing(bundle_dir, private_key, certificate=None, chain=(), ignore_paths=(),
                       subject_name=None, password=None):
    """Writes bundle_dir/model.sig (the key method, or the certificate method when
    `certificate` is given) and returns its path."""
    x509, hashes, serialization, ec = _crypto()
    try:
        key = serialization.load_pem_private_key(Path(private_key).read_bytes(), password)
    except (ValueError, TypeError, OSError) as e:
        raise SignError(f"{private_key}: not a usable PEM private key ({e})") from e
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
        raise SignError(f"{private_key}: model_signing signs with ECDSA P-256, P-384 or P-521 keys")
    ignore_paths = [str(p).rstrip("/") for p in ignore_paths]
    for p in ignore_paths:
        if _under(MANIFEST, p):
            raise SignError(f"ignore path {p!r} would leave bundle.toml unsigned")
    name = subject_name or Path(bundle_dir).resolve().name
    payload = json.dumps(statement(name, resources(bundle_dir, ignore_paths), [MODEL_SIG] + ignore_paths),
                         indent=2).encode("utf-8")
    signature = key.sign(pae(PAYLOAD_TYPE, payload), ec.ECDSA(_hash_for(key.public_key(), hashes)))
    if certificate is None:
        if chain:
            raise SignError("a certificate chain needs the signing certificate")
        material = {"publicKey": {"hint": key_hint(key.public_key())}, "tlogEntries": []}
    else:
        leaf = x509.load_pem_x509_certificate(Path(certificate).read_bytes())
        spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        if leaf.public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
            raise SignError(f"{certificate}: its key is not the private key's public key")
        certs = [leaf]
        for c in chain:
            certs.extend(_pem_certificates(x509, Path(c)))
        material = {"x509CertificateChain": {"certificates": [
            {"rawBytes": _b64(c.public_bytes(serialization.Encoding.DER))} for c in certs]},
            "tlogEntries": []}
    bundle = {"mediaType": BUNDLE_MEDIA_TYPE, "verificationMaterial": material,
              "dsseEnvelope": {"payload": _b64(payload), "payloadType": PAYLOAD_TYPE,
                               "signatures": [{"sig": _b64(signature), "keyid": ""}]}}
    out = Path(bundle_dir) / MODEL_SIG
    _write_atomic(out, json.dumps(bundle, separators=(",", ":")).encode("utf-8"))
    return out


def sign_ssh(bundle_dir, ssh_key, namespace="bundlegate"):
    """Writes bundle_dir/bundle.toml.sig with `ssh-keygen -Y sign` and returns its path."""
    manifest = Path(bundle_dir) / MANIFEST
    if not manifest.is_file():
        raise SignError(f"{manifest} does not exist")
    out = Path(bundle_dir) / SSH_SIG
    if out.exists():
        out.unlink()  # ssh-keygen refuses to overwrite
    try:
        r = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(ssh_key), "-n", namespace, str(manifest)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise SignError("ssh-keygen is not installed (apt-get install openssh-client)") from e
    if r.returncode != 0 or not out.is_file():
        raise SignError(f"ssh-keygen -Y sign failed: {r.stderr.strip() or r.stdout.strip()}")
    fd = os.open(out, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return out


def sign_bundle(bundle_dir, sign_key=None, sign_cert=None, sign_chain=(), ssh_key=None,
                ssh_namespace="bundlegate", ignore_paths=(), subject_name=None):
    """Both formats as asked, SSH first (so that model.sig covers bundle.toml.sig)."""
    written = []
    if ssh_key:
        written.append(sign_ssh(bundle_dir, ssh_key, ssh_namespace))
    if sign_key:
        written.append(sign_model_signing(bundle_dir, sign_key, sign_cert, sign_chain, ignore_paths,
                                          subject_name=subject_name))
    elif sign_cert or sign_chain:
        raise SignError("--sign-cert and --sign-chain need --sign-key")
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description="Sign a bundlegate bundle in place.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("dir")
    p.add_argument("--sign-key", help="PEM ECDSA private key: write model.sig")
    p.add_argument("--sign-cert", help="with --sign-key: its PEM certificate (certificate method)")
    p.add_argument("--sign-chain", action="append", default=[], help="PEM intermediates (repeatable)")
    p.add_argument("--ssh-key", help="SSH private key for ssh-keygen -Y sign: write bundle.toml.sig")
    p.add_argument("--ssh-namespace", default="bundlegate")
    p.add_argument("--ignore-path", action="append", default=[], help="leave out of model.sig (repeatable)")
    args = p.parse_args(argv)
    if not args.sign_key and not args.ssh_key:
        p.error("give --sign-key, --ssh-key or both")
    try:
        for path in sign_bundle(args.dir, args.sign_key, args.sign_cert, args.sign_chain, args.ssh_key,
                                args.ssh_namespace, args.ignore_path):
            print(path)
    except (SignError, OSError, ValueError) as e:
        print(f"bundlegate_sign: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

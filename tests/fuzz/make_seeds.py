#!/usr/bin/python3
"""Seeds for the libFuzzer harnesses (tests/fuzz), made at fuzz time from the repository's
fixtures and from archives and pickles that python3-torch writes here.

    make_seeds.py NAME OUT_DIR      writes the seeds of fuzzer NAME into OUT_DIR
    make_seeds.py --list

Committed seeds (tests/fuzz/seeds/NAME/, small text files, and the inputs of crashes found and
fixed) are read by scripts/fuzz as well; what is here is what can be made, not stored.
Inputs deeper or longer than the parsers allow are included on purpose (the limits must hold
under mutation), but kept small: libFuzzer's max_len follows the largest seed.
"""

import hashlib
import io
import json
import pickle
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_SEED = 256 << 10


def deep_toml():
    return {
        "deep-inline-array.toml": "a = " + "[" * 300 + "]" * 300 + "\n",
        "deep-inline-table.toml": "a = " + "{b = " * 300 + "1" + "}" * 300 + "\n",
        "deep-dotted-key.toml": ".".join(["a"] * 1000) + " = 1\n",
        "deep-header.toml": "[" + ".".join(["a"] * 1000) + "]\nx = 1\n",
        "deep-mixed.toml": "[[a.b]]\nc = [{d.e = [1, {f = 2}]}, 'x.y', \"\"\"m.n\n.o\"\"\"]\n",
    }


def deep_json():
    return {
        "deep-array.json": "[" * 200 + "]" * 200,
        "deep-object.json": '{"a":' * 200 + "1" + "}" * 200,
        "deep-details.json": '{"protocol":1,"status":"pass","reason":"","summary":"s",'
                             '"details":' + '{"a":' * 100 + "1" + "}" * 100 + ',"metrics":{}}',
    }


def lockfiles(kind):
    names = {
        "requirements_txt": ["pip-compile-hashes.txt", "pip-compile-plain.txt",
                             "requirements-direct.txt", "uv-export.txt", "uv-pip-compile.txt"],
        "uv_lock": ["uv-simple.lock", "uv-workspace.lock"],
        "poetry_lock": ["poetry-1.1.lock", "poetry-2.0.lock", "poetry-2.1.lock"],
        "pipfile_lock": ["Pipfile.lock", "pipfile-references.json"],
    }[kind]
    out = {n: (ROOT / "tests/fixtures/lockfiles" / n).read_bytes() for n in names}
    if kind in ("uv_lock", "poetry_lock"):
        out.update({k: v.encode() for k, v in deep_toml().items()})
    if kind == "pipfile_lock":
        out.update({k: v.encode() for k, v in deep_json().items()})
    return out


def config():
    out = {p.name: p.read_bytes() for p in (ROOT / "etc").glob("*.toml")}
    out.update({k: v.encode() for k, v in deep_toml().items()})
    return out


def manifest():
    out = {k: v.encode() for k, v in deep_toml().items()}
    for p in sorted((ROOT / "tests/fuzz/seeds/manifest").glob("*")):
        out["variant-" + p.name] = p.read_bytes().replace(b'format = "torchscript"', b"format = 2")
    return out


def safetensors_file(tensors, metadata=None, pad=True):
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors():
    return {
        "two.safetensors": safetensors_file({
            "a.0": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
            "a.1": ("I64", [1], struct.pack("<q", 7))}, {"format": "pt"}),
        "bool.safetensors": safetensors_file({"b.0": ("BOOL", [3], b"\x00\x01\x01")}),
        "scalar.safetensors": safetensors_file({"s.0": ("F64", [], struct.pack("<d", 0.5))}),
        "empty.safetensors": safetensors_file({"e.0": ("F16", [0, 4], b"")}, pad=False),
        "deep.safetensors": struct.pack("<Q", 400) + b"[" * 200 + b"]" * 200,
    }


def json_seeds():
    return {k: v.encode() for k, v in deep_json().items()}


def torch_archives():
    """Model files python3-torch writes: TorchScript (scripted, traced, with constants, extra
    files, quantized), torch.save checkpoints (zip and legacy), and the hostile models."""
    import torch  # noqa: PLC0415 - only the zip and pickle seeds need torch
    from torch import nn  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "tests/python"))
    import hostile_models  # noqa: PLC0415

    class Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.register_buffer("b", torch.arange(3.0))
            self.s = "str"
            self.c = 1 + 2j

        def forward(self, x):
            return self.fc(x) + self.b + torch.tensor([1.0, 2.0, 3.0])

    out = {}

    def jit(name, module, **kwargs):
        buf = io.BytesIO()
        torch.jit.save(module, buf, **kwargs)
        out[name] = buf.getvalue()

    jit("scripted.pt", torch.jit.script(Small().eval()), _extra_files={"meta.txt": "x"})
    jit("traced.pt", torch.jit.trace(Small().eval(), torch.randn(2, 4)))
    quant = torch.quantization.quantize_dynamic(nn.Sequential(nn.Linear(4, 4)), {nn.Linear},
                                                dtype=torch.qint8)
    jit("quantized.pt", torch.jit.script(quant))
    for name, kwargs in (("state.pt", {}), ("legacy.pt", {"_use_new_zipfile_serialization": False})):
        buf = io.BytesIO()
        torch.save(Small().state_dict(), buf, **kwargs)
        out[name] = buf.getvalue()
    markers = Path("/nonexistent/bundlegate-fuzz-seed")  # payloads are never run here
    for name, (maker, _, _, _) in hostile_models.CASES.items():
        data = maker(markers / name) if name != "nested-torch-load" else None
        if data is not None and len(data) <= MAX_SEED:
            out["hostile-" + name + ".pt"] = data
    return out


def zips():
    return torch_archives()


def pickles():
    import zipfile  # noqa: PLC0415

    out = {}
    for name, data in torch_archives().items():
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            out[name + ".pkl"] = data
            continue
        for info in z.infolist():
            if info.filename.endswith(("pkl", "debug_pkl")):
                try:
                    out[name + "-" + info.filename.replace("/", "_")] = z.read(info.filename)
                except Exception:  # noqa: BLE001 - some hostile archives do not read back
                    pass
    shared = ["a", "b"]
    objects = {"containers": {"a": [1, 2.5, None, True], (1, 2): {"n": ({}, [], ())}},
               "shared": [shared, shared], "numbers": [0, -1, 2 ** 70, 1e300],
               "text": ["", "ünï", b"\x00\xff", bytearray(b"x")], "sets": [{1}, frozenset({2})],
               "framed": list(range(5000))}
    for proto in range(6):
        for name, obj in objects.items():
            out[f"{name}-{proto}.pkl"] = pickle.dumps(obj, protocol=proto)
    return out


def _ssh_material():
    """Keys of three kinds made here by ssh-keygen, and an SSHSIG by each over a bundle.toml
    (both made fresh at every run: nothing secret is stored)."""
    import subprocess  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "bundle.toml"
        data.write_bytes((ROOT / "tests/fuzz/seeds/manifest/bundle.toml").read_bytes())
        for kind, extra in (("ed25519", []), ("ecdsa", ["-b", "256"]), ("rsa", ["-b", "2048"])):
            key = tmp / ("id_" + kind)
            subprocess.run(["ssh-keygen", "-q", "-t", kind, *extra, "-N", "", "-C", kind + "@acme.com",
                            "-f", str(key)], check=True, stdin=subprocess.DEVNULL)
            sig = tmp / "bundle.toml.sig"
            sig.unlink(missing_ok=True)
            subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "bundlegate",
                            str(data)], check=True, stdin=subprocess.DEVNULL, capture_output=True)
            out[kind] = (key.with_suffix(".pub").read_text().strip(), sig.read_bytes())
    return out


def sshsig():
    import base64  # noqa: PLC0415

    out = {}
    for kind, (_, armored) in _ssh_material().items():
        out[kind + ".sig"] = armored
        body = b"".join(line for line in armored.splitlines() if b"-----" not in line)
        out[kind + ".blob"] = base64.b64decode(body)  # the raw blob, for the field parser
    return out


def allowed_signers():
    keys = [pub for pub, _ in _ssh_material().values()]
    lines = [
        "release@acme.com " + keys[0],
        '*@acme.com,!intern@acme.com namespaces="bundlegate,git" ' + keys[1],
        '# a comment\n\nci@acme.com valid-after="20260101",valid-before="20270101Z" ' + keys[2],
        'ops@acme.com cert-authority,namespaces="bundlegate" ' + keys[0],
        '"quoted principal",x?y@acme.com ' + keys[1] + " trailing comment",
    ]
    return {f"signers-{i}": line + "\n" for i, line in enumerate(lines)} | {
        "all": "\n".join(lines) + "\n"}


def sigstore_bundle():
    """model.sig as scripts/bundlegate_sign.py writes it (key and certificate methods), and the
    in-toto statement inside it."""
    import base64  # noqa: PLC0415
    import datetime  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "scripts"))
    import bundlegate_sign  # noqa: PLC0415

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = tmp / "demo"
        (bundle / "model").mkdir(parents=True)
        (bundle / "bundle.toml").write_bytes((ROOT / "tests/fuzz/seeds/manifest/bundle.toml").read_bytes())
        (bundle / "model/model.pt").write_bytes(b"weights")
        for curve in (ec.SECP256R1(), ec.SECP384R1()):
            key = ec.generate_private_key(curve)
            pem = tmp / "key.pem"
            pem.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                              serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
            sig = bundlegate_sign.sign_model_signing(bundle, pem)
            out["key-" + curve.name + ".sig"] = sig.read_bytes()
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release")])
            now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                    .public_key(key.public_key()).serial_number(1).not_valid_before(now)
                    .not_valid_after(now + datetime.timedelta(days=365))
                    .sign(key, hashes.SHA256()))
            cert_pem = tmp / "cert.pem"
            cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            sig = bundlegate_sign.sign_model_signing(bundle, pem, certificate=cert_pem)
            out["cert-" + curve.name + ".sig"] = sig.read_bytes()
    statement = json.loads(out["key-secp256r1.sig"])["dsseEnvelope"]["payload"]
    out["statement.json"] = base64.b64decode(statement)
    out.update({k: v.encode() for k, v in deep_json().items()})
    return out


SEEDS = {
    "manifest": manifest,
    "config": config,
    "requirements_txt": lambda: lockfiles("requirements_txt"),
    "uv_lock": lambda: lockfiles("uv_lock"),
    "poetry_lock": lambda: lockfiles("poetry_lock"),
    "pipfile_lock": lambda: lockfiles("pipfile_lock"),
    "safetensors": safetensors,
    "plugin_result": json_seeds,
    "plugin_request": json_seeds,
    "audit_line": json_seeds,
    "zip": zips,
    "pickle": pickles,
    "sshsig": sshsig,
    "allowed_signers": allowed_signers,
    "sigstore_bundle": sigstore_bundle,
}


def main(argv):
    if argv[1:] == ["--list"]:
        print("\n".join(SEEDS))
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    name, out = argv[1], Path(argv[2])
    out.mkdir(parents=True, exist_ok=True)
    make = SEEDS.get(name)
    if make is None:
        return 0  # a fuzzer with committed seeds only
    for label, data in make().items():
        data = data if isinstance(data, bytes) else data.encode()
        if len(data) > MAX_SEED:
            continue
        digest = hashlib.sha1(data).hexdigest()[:12]
        (out / f"{label}-{digest}").write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""The Python reference for torchscript_plugin_bench.py: the same work as the TorchScript plugin
in its minimal configuration, in one Python process.

    python_reference_parity.py BUNDLE_DIR THREADS [--integrity]

import torch; read the parity files (safetensors, read here with the standard library so that
nothing but torch is imported); torch.jit.load the model; run each case once under
torch.inference_mode(); compare every output with torch.testing.assert_close (the plugin's
default tolerances are assert_close's). With --integrity, first what `bundlegate check` also
does before any plugin: read bundle.toml (tomllib) and compare every [[files]] entry's size and
SHA-256 (hashlib, 1 MiB reads) with the file. Prints {"ok": bool, "load_ms", "forward_ms", ...}.
"""

import json
import struct
import sys
import time

T0 = time.perf_counter()
import torch  # noqa: E402  (the import is part of the measured work)

T_IMPORT = time.perf_counter()
DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64,
          "I8": torch.int8, "I16": torch.int16, "I32": torch.int32, "I64": torch.int64,
          "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        begin, end = e["data_offsets"]
        raw = bytearray(data[8 + n + begin:8 + n + end])
        flat = torch.frombuffer(raw, dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
        out[name] = flat.view(DTYPES[e["dtype"]]).reshape(e["shape"])
    return out


def group(tensors):
    cases = {}
    for name, t in tensors.items():
        case, _, key = name.partition(".")
        cases.setdefault(case, {})[key] = t
    return cases


def check_integrity(bundle):
    import hashlib
    import os
    import tomllib
    with open(f"{bundle}/bundle.toml", "rb") as f:
        manifest = tomllib.load(f)
    ok = True
    for entry in manifest["files"]:
        path = os.path.join(bundle, entry["path"])
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        ok = ok and os.path.getsize(path) == entry["size"] and h.hexdigest() == entry["sha256"]
    return ok


def main(bundle, threads, integrity=False):
    t = time.perf_counter()
    integrity_ok = check_integrity(bundle) if integrity else True
    integrity_ms = (time.perf_counter() - t) * 1e3
    torch.set_num_threads(threads)
    inputs = group(read_safetensors(f"{bundle}/parity/inputs.safetensors"))
    expected = group(read_safetensors(f"{bundle}/parity/expected.safetensors"))
    t = time.perf_counter()
    model = torch.jit.load(f"{bundle}/model.pt", map_location="cpu")
    load_ms = (time.perf_counter() - t) * 1e3
    ok, forward_ms = True, {}
    with torch.inference_mode():
        for case in sorted(inputs):
            args = [inputs[case][str(i)] for i in range(len(inputs[case]))]
            t = time.perf_counter()
            out = model(*args)
            forward_ms[case] = (time.perf_counter() - t) * 1e3
            outs = {"0": out} if isinstance(out, torch.Tensor) else (
                {str(i): v for i, v in enumerate(out)} if isinstance(out, (tuple, list)) else dict(out))
            for key, want in expected[case].items():
                try:
                    torch.testing.assert_close(outs[key], want)
                except AssertionError:
                    ok = False
    ok = ok and integrity_ok
    print(json.dumps({"ok": ok, "import_ms": (T_IMPORT - T0) * 1e3, "integrity_ms": integrity_ms,
                      "load_ms": load_ms,
                      "forward_ms": forward_ms, "total_ms": (time.perf_counter() - T0) * 1e3}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), "--integrity" in sys.argv[3:]))

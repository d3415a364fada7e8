#!/usr/bin/python3
"""Hostile model files, made at test time, for the static scan (plugins/modelscan).

Each case is a model.pt that a TorchScript bundle could carry, built from a real archive that
python3-torch writes, then made hostile in one way: a pickle that runs a command, the known
ways around pickle scanners (picklescan, modelscan), TorchScript code that writes a file while
LibTorch loads it, and ZIP containers that hide or smuggle bytes. Every payload, if it ran,
would create the file MARKER_DIR/<case>; the scan must refuse each one before anything loads
it, so after the plugin ran, no marker may exist.

    hostile_models.py write OUT_DIR MARKER_DIR [CASE ...]   the model files, OUT_DIR/<case>.pt
    hostile_models.py control MARKER_DIR [CASE ...]         run each live payload the way a
                                                            naive reader would (pickle.loads,
                                                            torch.load, torch.jit.load, sh)
                                                            and print which markers appeared
    hostile_models.py list

`control` is the proof that the payloads are live: it is what the scan prevents. Run it only
with a MARKER_DIR of its own (each case runs in a child process).

Run with the Debian python that has torch: /usr/bin/python3.
"""

import io
import json
import pickle
import shlex
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Tuple

import torch
from torch import nn

# ------------------------------------------------------------------------- a real archive


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x)


class Stateful(nn.Module):
    """A module with __getstate__/__setstate__: LibTorch runs __setstate__ while loading."""

    def __init__(self):
        super().__init__()
        self.k = 1

    def forward(self, x):
        return x * self.k

    @torch.jit.export
    def __getstate__(self):
        return (self.k, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[int, bool]):
        self.k = state[0]
        self.training = state[1]


def saved(module) -> bytes:
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(module.eval()), buf)
    return buf.getvalue()


def entries(archive: bytes):
    """[(ZipInfo, bytes)] in the archive's order."""
    z = zipfile.ZipFile(io.BytesIO(archive))
    return [(info, z.read(info.filename)) for info in z.infolist()]


def rezip(items) -> bytes:
    """Writes (ZipInfo or name, bytes) pairs with Python's zipfile, keeping each method."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info, data in items:
            if isinstance(info, str):
                info = zipfile.ZipInfo(info, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buf.getvalue()


def top(items) -> str:
    return items[0][0].filename.split("/")[0]


def replace(archive: bytes, suffix: str, edit, contains: bytes = b"") -> bytes:
    """The archive with its first entry that ends in `suffix` (and holds `contains`) replaced
    by edit(old bytes). Class names, and so code/ paths, depend on the importing module."""
    items = entries(archive)
    hit = next(n for n, (i, d) in enumerate(items)
               if i.filename.endswith(suffix) and contains in d)
    return rezip([(i, edit(d) if n == hit else d) for n, (i, d) in enumerate(items)])


def add(archive: bytes, name: str, data: bytes, method=zipfile.ZIP_STORED) -> bytes:
    items = entries(archive)
    info = zipfile.ZipInfo(top(items) + "/" + name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = method
    return rezip(items + [(info, data)])


# ----------------------------------------------------------------------------- pickle bytes

def uni(text: str) -> bytes:
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def short(text: str) -> bytes:
    data = text.encode()
    return b"\x8c" + bytes([len(data)]) + data


def glob(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def call1(callee: bytes, arg: bytes) -> bytes:
    return callee + arg + b"\x85R"  # TUPLE1 REDUCE


def shell(marker: Path) -> str:
    return "touch " + shlex.quote(str(marker))


def python(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').write('pwned')"


def body(pkl: bytes) -> bytes:
    """A protocol-2 pickle without its PROTO opcode."""
    assert pkl[:2] == b"\x80\x02"
    return pkl[2:]


def prefixed(payload: bytes, proto: int = 2):
    """An edit: run `payload` (which leaves one value), POP it, then the original pickle."""
    return lambda pkl: bytes([0x80, proto]) + payload + b"0" + body(pkl)


def whole(payload: bytes, proto: int = 2) -> bytes:
    return bytes([0x80, proto]) + payload + b"."


def os_system(m):
    return call1(glob("os", "system"), uni(shell(m)))


def stack_global_memo(m):
    # picklescan matched the two strings right before STACK_GLOBAL; here they come from the
    # memo, stored long before, and the module is posix (not "os").
    return (short("posix") + b"\x94" + b"0" + short("system") + b"\x94" + b"0" +
            b"h\x00h\x01\x93" + short(shell(m)) + b"\x85R")


def attribute_chain(m):
    # Protocol 4 resolves a dotted name with getattr: an allowed-looking module, a long path.
    return call1(short("torch._utils") + short("torch.os.system") + b"\x93", short(shell(m)))


def getattr_import(m):
    return (glob("builtins", "getattr") + glob("builtins", "__import__") + uni("os") + b"\x85R" +
            uni("system") + b"\x86R" + uni(shell(m)) + b"\x85R")


def compat_builtin(m):
    # Protocol 2: __builtin__ is mapped to builtins on load (fix_imports).
    return call1(glob("__builtin__", "eval"), uni(f"__import__('os').system({shell(m)!r})"))


def rebuild_exec(m):
    # An allowed callable that calls what it is handed: _rebuild_from_type_v2(func, type, args,
    # state) runs func(*args) first.
    return (glob("torch._tensor", "_rebuild_from_type_v2") + b"(" + glob("builtins", "exec") +
            glob("collections", "OrderedDict") + uni(python(m)) + b"\x85}t" + b"R")


def nested_load(m):
    inner = m.parent / (m.name + ".inner.pkl")
    inner.parent.mkdir(parents=True, exist_ok=True)
    inner.write_bytes(whole(os_system(m)))
    return call1(glob("torch", "load"), uni(str(inner)))


# ------------------------------------------------------------------------------ the cases

def pickle_case(payload_fn, entry="data.pkl", proto=2, base=Tiny):
    return lambda m: replace(saved(base()), entry, prefixed(payload_fn(m), proto))


def extra_pickle(m):
    return add(saved(Tiny()), "extra/config.pkl", whole(os_system(m)))


def after_stop(m):
    return replace(saved(Tiny()), "data.pkl", lambda pkl: pkl + whole(os_system(m)))


def truncated_after_payload(m):
    return replace(saved(Tiny()), "data.pkl", lambda pkl: prefixed(os_system(m))(pkl)[:-40])


def code_payload(statement):
    def make(m):
        def edit(src: bytes) -> bytes:
            text = src.decode()
            anchor = "    self.k = (state)[0]\n"
            assert anchor in text
            return text.replace(anchor, "    " + statement(m) + "\n" + anchor).encode()
        return replace(saved(Stateful()), ".py", edit, contains=b"def __setstate__")
    return make


def checkpoint_payload(m):
    buf = io.BytesIO()
    torch.save(Tiny().state_dict(), buf)
    return replace(buf.getvalue(), "data.pkl", prefixed(os_system(m)))


def legacy_payload(m):
    # The legacy format's first pickle (the magic number) replaced by the payload.
    buf = io.BytesIO()
    torch.save(Tiny().state_dict(), buf, _use_new_zipfile_serialization=False)
    magic = pickle.dumps(0x1950a86a20f9469cfc6c, 2)
    assert buf.getvalue().startswith(magic)
    return whole(os_system(m)) + buf.getvalue()[len(magic):]


def traversal(m):
    return add(saved(Tiny()), "../../../../tmp/" + m.name, b"#!/bin/sh\n" + shell(m).encode())


def absolute(m):
    items = entries(saved(Tiny()))
    return rezip(items + [("/tmp/" + m.name, shell(m).encode())])


def backslash(m):
    items = entries(saved(Tiny()))
    return rezip(items + [(top(items) + "\\..\\..\\evil.sh", shell(m).encode())])


def zip_bomb(m):
    return add(saved(Tiny()), "extra/blob", bytes(64 << 20), zipfile.ZIP_DEFLATED)


def lying_size(m):
    # The central directory says 1000 bytes; the deflate stream holds 10 MB.
    data = add(saved(Tiny()), "extra/blob", bytes(10 << 20), zipfile.ZIP_DEFLATED)
    return patch_sizes(data, "extra/blob", 1000)


def patch_sizes(data: bytes, suffix: str, size: int) -> bytes:
    """Sets the uncompressed size of the entry ending in `suffix`, in both of its headers."""
    info = next(i for i in zipfile.ZipFile(io.BytesIO(data)).infolist()
                if i.filename.endswith(suffix))
    out = bytearray(data)
    struct.pack_into("<I", out, info.header_offset + 22, size)
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        if data[pos + 46:pos + 46 + name_len].decode().endswith(suffix):
            struct.pack_into("<I", out, pos + 24, size)
        pos = data.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def polyglot_prefix(m):
    # A shell script that is also a ZIP archive (offsets counted from the script's start).
    buf = io.BytesIO()
    buf.write(f"#!/bin/sh\n{shell(m)}\nexit 0\n".encode())
    with zipfile.ZipFile(buf, "a") as z:
        for info, data in entries(saved(Tiny())):
            z.writestr(info, data)
    return buf.getvalue()


def gap(m):
    # A pickle slipped in between two entries, the offsets after it moved along.
    data = rezip(entries(saved(Tiny())))
    z = zipfile.ZipFile(io.BytesIO(data))
    infos = z.infolist()
    cut = infos[1].header_offset
    hidden = whole(os_system(m))
    out = bytearray(data[:cut] + hidden + data[cut:])
    shift = len(hidden)
    pos = out.find(b"PK\x01\x02", cut + shift)
    cd_start = pos
    while pos >= 0:
        offset = struct.unpack_from("<I", out, pos + 42)[0]
        if offset >= cut:
            struct.pack_into("<I", out, pos + 42, offset + shift)
        pos = out.find(b"PK\x01\x02", pos + 4)
    end = out.rfind(b"PK\x05\x06")
    struct.pack_into("<I", out, end + 16, cd_start)
    return bytes(out)


def trailing(m):
    return rezip(entries(saved(Tiny()))) + whole(os_system(m))


def duplicate(m):
    items = entries(saved(Tiny()))
    name = next(i.filename for i, _ in items if i.filename.endswith("/data.pkl"))
    return rezip(items + [(name, whole(os_system(m)))])


def case_duplicate(m):
    items = entries(saved(Tiny()))
    name = next(i.filename for i, _ in items if i.filename.endswith("/data.pkl"))
    return rezip(items + [(name[:-8] + "DATA.pkl", whole(os_system(m)))])


def header_mismatch(m):
    # The central directory names data.pkl; the local header there says datb.pkl.
    data = rezip(entries(saved(Tiny())))
    info = next(i for i in zipfile.ZipFile(io.BytesIO(data)).infolist()
                if i.filename.endswith("/data.pkl"))
    out = bytearray(data)
    at = info.header_offset + 30 + len(info.filename) - 5
    out[at] = ord("b")
    return bytes(out)


def crc_mismatch(m):
    data = rezip(entries(saved(Tiny())))
    info = next(i for i in zipfile.ZipFile(io.BytesIO(data)).infolist()
                if i.filename.endswith("/constants.pkl"))
    out = bytearray(data)
    out[info.header_offset + 30 + len(info.filename) + 1] ^= 0x01
    return bytes(out)


def unexpected_entry(m):
    return add(saved(Tiny()), "payload.sh", shell(m).encode())


def storage_edit(kind):
    def make(m):
        items = entries(saved(Tiny()))
        t = top(items)
        out = []
        for info, data in items:
            if info.filename == t + "/data/0" and kind == "oversized":
                data = data + b"\0" * 64
            elif info.filename == t + "/data/0" and kind == "undersized":
                data = data[:-4]
            out.append((info, data))
        if kind == "unused":
            out.append((t + "/data/99", b"\0" * 64))
        return rezip(out)
    return make


def rezipped(m):
    return rezip(entries(saved(Tiny())))


# name -> (maker, expected plugin reason, how a naive reader runs the payload (None: no live
# payload), what the scan's message must mention)
CASES = {
    "pickle-os-system": (pickle_case(os_system), "unsafe-model", "pickle:data.pkl", "os.system"),
    "stack-global-memo": (pickle_case(stack_global_memo, proto=4), "unsafe-model",
                          "pickle:data.pkl", "posix.system"),
    "attribute-chain": (pickle_case(attribute_chain, proto=4), "unsafe-model", "pickle:data.pkl",
                        "torch._utils.torch.os.system"),
    "getattr-import": (pickle_case(getattr_import), "unsafe-model", "pickle:data.pkl",
                       "builtins.getattr"),
    "compat-builtin": (pickle_case(compat_builtin), "unsafe-model", "pickle:data.pkl",
                       "__builtin__.eval"),
    "rebuild-exec": (pickle_case(rebuild_exec), "unsafe-model", "pickle:data.pkl",
                     "builtins.exec"),
    "nested-torch-load": (pickle_case(nested_load), "unsafe-model", "pickle:data.pkl",
                          "torch.load"),
    "constants-payload": (pickle_case(os_system, entry="constants.pkl"), "unsafe-model",
                          "pickle:constants.pkl", "os.system"),
    "debug-pkl-payload": (pickle_case(os_system, entry=".py.debug_pkl"), "unsafe-model",
                          "pickle:.py.debug_pkl", "os.system"),
    "extra-pickle": (extra_pickle, "unsafe-model", "pickle:extra/config.pkl", "os.system"),
    "pickle-after-stop": (after_stop, "unsafe-model", "pickle-after-stop:data.pkl",
                          "follow the end of the pickle"),
    "truncated-after-payload": (truncated_after_payload, "unsafe-model", "pickle:data.pkl",
                                "os.system"),
    "setstate-from-file": (code_payload(
        lambda m: f"self.k = torch.numel(torch.from_file({str(m)!r}, True, 16))"),
                           "unsafe-model", "torch.jit.load", "from_file"),
    "setstate-save": (code_payload(lambda m: f"torch.save(torch.zeros([1]), {str(m)!r})"),
                      "unsafe-model", "torch.jit.load", "torch.save"),
    "checkpoint-payload": (checkpoint_payload, "unsafe-model", "torch.load", "os.system"),
    "legacy-payload": (legacy_payload, "unsafe-model", "torch.load", "os.system"),
    "traversal": (traversal, "unsafe-model", None, "component"),
    "absolute-name": (absolute, "unsafe-model", None, "absolute"),
    "backslash-name": (backslash, "unsafe-model", None, "backslash"),
    "zip-bomb": (zip_bomb, "unsafe-model", None, "zip bomb"),
    "lying-size": (lying_size, "unsafe-model", None, "more than its declared"),
    "polyglot-prefix": (polyglot_prefix, "unsafe-model", "sh", "polyglot"),
    "gap-pickle": (gap, "unsafe-model", None, "unaccounted bytes"),
    "trailing-data": (trailing, "unsafe-model", None, "follow the end of the ZIP"),
    "duplicate-name": (duplicate, "unsafe-model", "zipfile:data.pkl", "a second entry"),
    "case-duplicate": (case_duplicate, "unsafe-model", None, "a second entry"),
    "header-mismatch": (header_mismatch, "unsafe-model", None, "disagree"),
    "crc-mismatch": (crc_mismatch, "unsafe-model", None, "CRC"),
    "unexpected-entry": (unexpected_entry, "unsafe-model", None, "not part of a TorchScript"),
    "oversized-storage": (storage_edit("oversized"), "unsafe-model", None, "hidden content"),
    "undersized-storage": (storage_edit("undersized"), "unsafe-model", None, "out-of-bounds"),
    "unused-storage": (storage_edit("unused"), "unsafe-model", None, "no tensor uses"),
}

# Archives written by another ZIP writer that are still clean TorchScript (no false positive).
CLEAN = {"rezipped": rezipped}


def write(out: Path, markers: Path, names):
    out.mkdir(parents=True, exist_ok=True)
    markers.mkdir(parents=True, exist_ok=True)
    for name in names:
        maker = CASES[name][0] if name in CASES else CLEAN[name]
        (out / f"{name}.pt").write_bytes(maker(markers / name))


# ---------------------------------------------------------------------------- the control

def run_live(name: str, data: bytes, how: str, workdir: Path):
    """Reads `data` the naive way `how` says (in this process: call from a child)."""
    if how == "torch.jit.load":
        torch.jit.load(io.BytesIO(data))
    elif how == "torch.load":
        torch.load(io.BytesIO(data))
    elif how == "sh":
        script = workdir / (name + ".sh")
        script.write_bytes(data)
        subprocess.run(["sh", str(script)], check=False)
    else:
        kind, entry = how.split(":")
        if kind == "zipfile":  # Python's zipfile takes the last of two same-named entries
            z = zipfile.ZipFile(io.BytesIO(data))
            pickle.loads(z.read(next(n for n in z.namelist() if n.endswith("/" + entry))))
            return
        z = zipfile.ZipFile(io.BytesIO(data))
        blob = z.read(next(i for i in z.infolist()
                           if i.filename.endswith(entry if entry[0] == "." else "/" + entry)))
        if kind == "pickle-after-stop":
            first = io.BytesIO(blob)
            try:
                pickle.Unpickler(first).load()
            except Exception:  # noqa: BLE001 - __torch__ classes do not import in Python
                pass
            blob = blob[blob.index(b"\x80\x02", 2):]
        pickle.loads(blob)


def control(markers: Path, names):
    """Writes each live case, then reads them all in one child process (torch imports once)."""
    markers.mkdir(parents=True, exist_ok=True)
    live = [n for n in names if CASES[n][2] is not None]
    for name in live:
        (markers / (name + ".model")).write_bytes(CASES[name][0](markers / name))
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
            "import hostile_models as h\nfrom pathlib import Path\n"
            f"markers = Path({str(markers)!r})\n"
            f"for name in {live!r}:\n"
            "    try:\n"
            "        h.run_live(name, (markers / (name + '.model')).read_bytes(), h.CASES[name][2],"
            " markers)\n"
            "    except BaseException:\n"
            "        pass\n")
    subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=600, check=False)
    print(json.dumps({name: (markers / name).exists() for name in live}))


def main(argv):
    if argv[1:2] == ["list"]:
        for name, (_, reason, how, needle) in CASES.items():
            print(f"{name}\t{reason}\t{how or '-'}\t{needle}")
        return 0
    if len(argv) >= 4 and argv[1] == "write":
        write(Path(argv[2]), Path(argv[3]), argv[4:] or list(CASES) + list(CLEAN))
        return 0
    if len(argv) >= 3 and argv[1] == "control":
        control(Path(argv[2]), argv[3:] or list(CASES))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

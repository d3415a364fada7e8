#!/usr/bin/python3
"""bundlegate_pack: write a bundlegate model bundle (SPEC.md "The bundle") from a PyTorch model.

The producer's side of the gate. Given a model, example inputs, the training repository's
dependency lockfile and preprocessing spec, it writes a bundle directory that bundlegate's
TorchScript plugin can check: the model as TorchScript (model.pt), the example inputs and the
outputs they gave at packing time (parity/inputs.safetensors, parity/expected.safetensors), the
lockfile and the preprocessing spec, and bundle.toml with the git provenance, the model's
signature (every parameter and buffer: name, kind, shape, dtype) and every file's size and
sha256. It needs only torch (the `safetensors` package is used when installed; otherwise its own
writer of the public format).

What it does to the model: puts it in eval mode; scripts it (torch.jit.script) or, on request,
traces it with the first case's inputs; when the model was not TorchScript already, checks that
the TorchScript module gives the eager model's outputs; sets a string attribute
`preprocessing_version` on the module (unless told not to), which the plugin compares with
[preprocessing] version; records the expected outputs under torch.no_grad().

Parity cases: a dict {case name: tuple of input tensors} (a lone tensor is a 1-tuple). Case
names match [A-Za-z0-9_-]+. Input i of case c is stored as "c.i"; the outputs as "c.0" for a
tensor, "c.0", "c.1", ... for a tuple or list, "c.<key>" for a dict of tensors.

Writing: into a staging directory ".<name>.tmp" beside the target, fsync'd, then renamed into
place, so that the target can be in the agent's inbox (which ignores names starting with ".").
An existing target is an error; a stale staging directory of the same name is removed.

Python API:

    import bundlegate_pack
    bundlegate_pack.pack(
        model, {"cat": (image,), "batch4": (images,)},
        out_dir="/var/lib/bundlegate/inbox/fraud-scorer-2026.11.28-1",
        name="fraud-scorer", version="2026.11.28-1",
        lockfile="requirements.lock", preprocessing_spec="conf/preprocess.toml",
        preprocessing_version="imagenet-norm-v2", repo_dir=".",
        inference={"device": "cpu", "threads": 1, "max_batch": 64},
        tolerance={"logits": (1e-4, 1e-5)})

Provenance comes from `git` in repo_dir (commit, dirty = uncommitted changes to tracked files,
branch, remote.origin.url, and the lockfile's and spec's paths relative to the repository's top
level), or is given explicitly (commit=, dirty=, branch=, repo_url=, lockfile_path=,
preprocessing_path=), which also works without git.

Command line:

    bundlegate_pack.py --model model.pt --inputs inputs.pt \\
        --lockfile requirements.lock --preprocessing-spec conf/preprocess.toml \\
        --preprocessing-version imagenet-norm-v2 --name fraud-scorer --version 2026.11.28-1 \\
        --repo . --out /var/lib/bundlegate/inbox/fraud-scorer-2026.11.28-1

  --model FILE            a TorchScript archive (torch.jit.save), or an nn.Module saved whole
                          with torch.save (its class must be importable)
  --factory MOD:FN        instead of --model: import MOD, call FN() for the nn.Module
  --weights FILE          with --factory: a state_dict (torch.save) to load into it
  --inputs FILE           the cases: a torch.save'd dict {case: tensor or tuple/list of
                          tensors}, or a .safetensors file with tensors named <case>.<i>
  --trace                 trace instead of script
  --record-device DEV     record the expected outputs on "cpu" (default) or "cuda": where the
                          serving runtime runs the model, so that parity compares like with like
  --name, --version       the bundle's name and version (SPEC.md rules)
  --lockfile FILE         the dependency lockfile, copied into the bundle under its base name
  --preprocessing-spec FILE, --preprocessing-version VERSION
  --no-module-attribute   do not set `preprocessing_version` on the module
  --repo DIR              the training code's git repository (default: the current directory)
  --commit SHA, --dirty/--no-dirty, --branch NAME, --repo-url URL,
  --lockfile-path REL, --preprocessing-path REL
                          explicit provenance, overriding (or replacing) git's
  --device cpu|cuda, --threads N, --max-batch N
                          write [inference] (how serving will run the model)
  --tolerance KEY=RTOL,ATOL   [parity.tolerance."KEY"] (repeatable)
  --file BUNDLE_PATH=SOURCE   an extra file in the bundle (repeatable)
  --no-signature          omit [[model.signature]]
  --created RFC3339       the creation time (default: now, UTC)
  --sign-key PEM          sign with OpenSSF model signing (model.sig, model_signing's key method:
                          an ECDSA P-256/384/521 private key); see bundlegate_sign.py
  --sign-cert PEM, --sign-chain PEM
                          with --sign-key: the certificate method (the key's certificate, and
                          intermediates to include; --sign-chain repeatable)
  --ssh-key FILE          sign bundle.toml with `ssh-keygen -Y sign` (bundle.toml.sig)
  --ssh-namespace NS      its namespace (default "bundlegate", what the gate expects)
  --out DIR               the bundle directory to create (must not exist)

Signatures are written into the staging directory before the rename, so the agent never sees
a bundle without them.

It prints the bundle's path on stdout. Exit status: 0 written, 1 packing failed (the message
says why; nothing is left at --out), 2 usage error.
"""

import argparse
import datetime
import hashlib
import importlib
import inspect
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import torch

FORMAT = 1
NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\Z")
CASE_RE = re.compile(r"[A-Za-z0-9_-]+\Z")
COMMIT_RE = re.compile(r"([0-9a-f]{40}|[0-9a-f]{64})\Z")
CREATED_RE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z")
MODEL_FILE = "model.pt"
INPUTS_FILE = "parity/inputs.safetensors"
EXPECTED_FILE = "parity/expected.safetensors"
PREPROCESSING_ATTRIBUTE = "preprocessing_version"

# torch dtype <-> safetensors dtype, the set bundlegate's plugin reads.
_DTYPES = {
    torch.float16: "F16", torch.bfloat16: "BF16", torch.float32: "F32", torch.float64: "F64",
    torch.int8: "I8", torch.int16: "I16", torch.int32: "I32", torch.int64: "I64",
    torch.uint8: "U8", torch.bool: "BOOL",
}
_DTYPES_BY_NAME = {v: k for k, v in _DTYPES.items()}


class PackError(Exception):
    """The bundle cannot be written as asked; the message says why."""


# ----------------------------------------------------------------------------- safetensors

def _tensor_bytes(t):
    t = t.detach().to("cpu").contiguous().clone()
    if t.numel() == 0:
        return b""
    return t.reshape(-1).view(torch.uint8).numpy().tobytes()


def safetensors_bytes(tensors, metadata=None):
    """The safetensors encoding of {name: tensor}: header padded with spaces to 8 bytes,
    tensors packed back to back in name order (what the format's reference writer does)."""
    if sys.byteorder != "little":
        raise PackError("safetensors writing needs a little-endian host")
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        t = tensors[name]
        if t.dtype not in _DTYPES:
            raise PackError(f"tensor {name!r}: dtype {t.dtype} cannot be stored "
                            f"(supported: {', '.join(str(d) for d in _DTYPES)})")
        blob = _tensor_bytes(t)
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: tensor} to `path`, with the `safetensors` package when it is installed."""
    try:
        from safetensors.torch import save_file  # optional dependency
    except ImportError:
        save_file = None
    if save_file is not None:
        save_file({k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()},
                  str(path), metadata=metadata)
        return
    Path(path).write_bytes(safetensors_bytes(tensors, metadata))


def read_safetensors(path):
    """Reads a safetensors file into {name: tensor} (for tests and tools; not hardened)."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base, out = 8 + n, {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        dtype = _DTYPES_BY_NAME[entry["dtype"]]
        raw = bytearray(data[base + begin:base + end])
        flat = torch.frombuffer(raw, dtype=torch.uint8) if raw else torch.empty(0, dtype=torch.uint8)
        out[name] = flat.view(dtype).reshape(entry["shape"]).clone()
    return out


# ----------------------------------------------------------------------------- the model

def _as_tuple(value, case):
    if isinstance(value, torch.Tensor):
        return (value,)
    if isinstance(value, (tuple, list)) and value and all(isinstance(t, torch.Tensor) for t in value):
        return tuple(value)
    raise PackError(f"case {case!r}: inputs must be a tensor or a non-empty tuple of tensors")


def normalize_cases(cases):
    """{case: tuple of CPU tensors}, validated."""
    if not isinstance(cases, dict) or not cases:
        raise PackError("inputs must be a non-empty dict {case name: tuple of tensors}")
    out = {}
    for case, value in cases.items():
        if not isinstance(case, str) or not CASE_RE.match(case):
            raise PackError(f"case name {case!r} does not match [A-Za-z0-9_-]+")
        args = _as_tuple(value, case)
        for i, t in enumerate(args):
            if t.dtype not in _DTYPES:
                raise PackError(f"case {case!r} input {i}: dtype {t.dtype} is not supported")
        out[case] = tuple(t.detach().to("cpu") for t in args)
    return out


def flatten_outputs(value, case):
    """The forward's result as {key: tensor} (SPEC.md "Parity data")."""
    if isinstance(value, torch.Tensor):
        items = [("0", value)]
    elif isinstance(value, (tuple, list)):
        items = [(str(i), v) for i, v in enumerate(value)]
    elif isinstance(value, dict):
        items = list(value.items())
    else:
        raise PackError(f"case {case!r}: forward returned {type(value).__name__}; "
                        "expected a tensor, or a tuple, list or dict of tensors")
    out = {}
    for key, t in items:
        if not isinstance(key, str) or not key or any(ord(c) < 0x20 for c in key):
            raise PackError(f"case {case!r}: output key {key!r} is not a usable name")
        if not isinstance(t, torch.Tensor):
            raise PackError(f"case {case!r}: output {key!r} is {type(t).__name__}, not a tensor")
        out[key] = t.detach().to("cpu")
    return out


def to_torchscript(model, cases, trace=False, keep_training_mode=False, preprocessing_version=None):
    """(TorchScript module, eager module or None). The module is put in eval mode unless
    keep_training_mode (which only tests of the gate itself should use), and carries the string
    attribute `preprocessing_version` when one is given."""
    if isinstance(model, torch.jit.ScriptModule):
        module = _fresh_copy(model)  # the caller's module (and its compiled types) stay as given
        if not keep_training_mode:
            module.eval()
        if preprocessing_version is not None:
            set_preprocessing_version(module, preprocessing_version)
        return module, None
    if not isinstance(model, torch.nn.Module):
        raise PackError(f"model must be an nn.Module or a TorchScript module, not {type(model).__name__}")
    if not keep_training_mode:
        model.eval()
    try:
        if trace:
            first = cases[sorted(cases)[0]]
            with torch.no_grad():
                module = _fresh_copy(torch.jit.trace(model, first, check_trace=not keep_training_mode))
            if preprocessing_version is not None:
                set_preprocessing_version(module, preprocessing_version)
            return module, model
        return _script_with_attribute(model, preprocessing_version), model
    except PackError:
        raise
    except Exception as e:  # torch raises many types here
        raise PackError(f"cannot {'trace' if trace else 'script'} the model: {e}") from e


def _fresh_copy(module):
    """A copy of a TorchScript module with types of its own (torch.jit.load compiles the saved
    code into a new compilation unit), so that adding an attribute touches nobody else's type."""
    buf = io.BytesIO()
    torch.jit.save(module, buf)
    buf.seek(0)
    return torch.jit.load(buf)


def _script_with_attribute(model, preprocessing_version):
    """Scripts `model` with the attribute set on the eager module first (so that it belongs to
    this module's compiled type only), then leaves the eager module as it was."""
    if preprocessing_version is None:
        return torch.jit.script(model)
    missing = object()
    old = model.__dict__.get(PREPROCESSING_ATTRIBUTE, missing)
    model.__dict__[PREPROCESSING_ATTRIBUTE] = str(preprocessing_version)
    try:
        return torch.jit.script(model)
    finally:
        if old is missing:
            del model.__dict__[PREPROCESSING_ATTRIBUTE]
        else:
            model.__dict__[PREPROCESSING_ATTRIBUTE] = old


def set_preprocessing_version(module, version):
    """Sets the string attribute `preprocessing_version` on a TorchScript module. On a module
    without it the attribute is added to the module's compiled type: use it on a module of its
    own, e.g. one from torch.jit.load (pack() does)."""
    # The TorchScript-level attribute (module._c), not a Python attribute of the wrapper, which
    # torch.jit.save would not keep.
    if module._c.hasattr(PREPROCESSING_ATTRIBUTE):
        try:
            module._c.setattr(PREPROCESSING_ATTRIBUTE, version)
            return
        except Exception as e:
            raise PackError(f"the model's existing {PREPROCESSING_ATTRIBUTE} cannot be set: {e}") from e
    module._c._register_attribute(PREPROCESSING_ATTRIBUTE, torch._C.StringType.get(), version)


def record_outputs(module, cases):
    """{case: {key: tensor}}: one forward per case under no_grad."""
    out = {}
    with torch.no_grad():
        for case in sorted(cases):
            try:
                value = module(*cases[case])
            except Exception as e:
                raise PackError(f"case {case!r}: forward failed: {e}") from e
            out[case] = flatten_outputs(value, case)
    return out


def check_against_eager(eager, scripted_outputs, cases):
    """The TorchScript module must reproduce the eager model's outputs."""
    eager_outputs = record_outputs(eager, cases)
    for case, outputs in scripted_outputs.items():
        if set(outputs) != set(eager_outputs[case]):
            raise PackError(f"case {case!r}: TorchScript outputs {sorted(outputs)} differ from "
                            f"eager {sorted(eager_outputs[case])}")
        for key, t in outputs.items():
            try:
                torch.testing.assert_close(t, eager_outputs[case][key], equal_nan=True)
            except AssertionError as e:
                raise PackError(f"case {case!r} output {key!r}: TorchScript differs from eager: {e}") from e


def model_signature(module):
    """[{name, kind, shape, dtype}] for every parameter and buffer, as the plugin lists them
    (named_parameters then named_buffers, recursively, shared tensors under each name)."""
    entries = []
    for kind, attr in (("parameter", "_parameters"), ("buffer", "_buffers")):
        for prefix, sub in _named_modules(module):
            for name, t in getattr(sub, attr).items():
                if t is None:
                    continue
                entries.append({"name": prefix + name, "kind": kind, "shape": list(t.shape),
                                "dtype": str(t.dtype).replace("torch.", "")})
    return entries


def _named_modules(module):
    params = inspect.signature(module.named_modules).parameters
    mods = module.named_modules(remove_duplicate=False) if "remove_duplicate" in params else module.named_modules()
    return [(f"{name}." if name else "", sub) for name, sub in mods]


# ----------------------------------------------------------------------------- provenance

def _git(repo_dir, *args):
    try:
        r = subprocess.run(["git", "-C", str(repo_dir), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as e:
        raise PackError("git is not installed; give commit=, dirty=, lockfile_path= and "
                        "preprocessing_path= explicitly") from e
    return r.returncode, r.stdout.strip(), r.stderr.strip()


def git_info(repo_dir):
    """{commit, dirty, branch, repo, toplevel} of the repository at repo_dir."""
    code, toplevel, err = _git(repo_dir, "rev-parse", "--show-toplevel")
    if code != 0:
        raise PackError(f"{repo_dir} is not in a git repository ({err}); give the provenance explicitly")
    code, commit, err = _git(repo_dir, "rev-parse", "--verify", "HEAD")
    if code != 0:
        raise PackError(f"{repo_dir}: no commit ({err})")
    _, status, _ = _git(repo_dir, "status", "--porcelain", "--untracked-files=no")
    _, branch, _ = _git(repo_dir, "symbolic-ref", "--short", "-q", "HEAD")
    _, url, _ = _git(repo_dir, "config", "--get", "remote.origin.url")
    return {"commit": commit, "dirty": bool(status), "branch": branch, "repo": url, "toplevel": toplevel}


def repo_relative(path, toplevel, what):
    rel = os.path.relpath(os.path.realpath(path), os.path.realpath(toplevel))
    if rel == os.curdir or rel.startswith(os.pardir + os.sep) or rel == os.pardir or os.path.isabs(rel):
        raise PackError(f"{what} {path} is outside the repository {toplevel}; give its repository path explicitly")
    return rel.replace(os.sep, "/")


def resolve_source(repo_dir, lockfile, preprocessing_spec, overrides):
    """The [source] table: git's answers, each overridable by an explicit value."""
    explicit = {k: v for k, v in overrides.items() if v is not None}
    needed = {"commit", "dirty", "lockfile_path", "preprocessing_path"}
    info = {}
    if not needed <= set(explicit) or repo_dir is not None:
        info = git_info(repo_dir if repo_dir is not None else os.getcwd())
        info["lockfile_path"] = explicit.get("lockfile_path") or repo_relative(lockfile, info["toplevel"], "lockfile")
        info["preprocessing_path"] = explicit.get("preprocessing_path") or repo_relative(
            preprocessing_spec, info["toplevel"], "preprocessing spec")
    source = {"repo": "", "branch": ""}
    source.update({k: v for k, v in info.items() if k != "toplevel"})
    source.update(explicit)
    if not COMMIT_RE.match(str(source.get("commit", ""))):
        raise PackError(f"commit {source.get('commit')!r} is not a full lower-case hex commit id")
    return source


# ----------------------------------------------------------------------------- bundle.toml

def toml_string(s):
    out = ['"']
    for ch in str(s):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise PackError(f"{v} cannot be written to bundle.toml")
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return toml_string(v)


def _table(lines, header, pairs):
    lines.append("")
    lines.append(header)
    for k, v in pairs:
        lines.append(f"{k} = {toml_value(v)}")


def render_manifest(m):
    """bundle.toml's text for the manifest dict `m` (keys as in SPEC.md)."""
    lines = [f"format = {FORMAT}", f"name = {toml_string(m['name'])}",
             f"version = {toml_string(m['version'])}", f"created = {m['created']}"]
    s = m["source"]
    _table(lines, "[source]", [(k, s[k]) for k in ("repo", "commit", "dirty", "branch",
                                                   "lockfile_path", "preprocessing_path")])
    _table(lines, "[model]", [("path", MODEL_FILE), ("format", "torchscript")])
    for e in m.get("signature") or []:
        _table(lines, "[[model.signature]]", [(k, e[k]) for k in ("name", "kind", "shape", "dtype")])
    if m.get("inference"):
        _table(lines, "[inference]", list(m["inference"].items()))
    _table(lines, "[dependencies]", [("lockfile", m["lockfile"])])
    _table(lines, "[preprocessing]", [("version", m["preprocessing_version"]), ("spec", m["preprocessing_spec"])])
    _table(lines, "[parity]", [("inputs", INPUTS_FILE), ("expected", EXPECTED_FILE)])
    for key, (rtol, atol) in sorted((m.get("tolerance") or {}).items()):
        _table(lines, f"[parity.tolerance.{toml_string(key)}]", [("rtol", float(rtol)), ("atol", float(atol))])
    if m.get("metadata"):
        _table(lines, "[metadata]", sorted(m["metadata"].items()))
    for f in m["files"]:
        _table(lines, "[[files]]", [("path", f["path"]), ("size", f["size"]), ("sha256", f["sha256"])])
    return "\n".join(lines) + "\n"


def _normalize_tolerance(tolerance):
    out = {}
    for key, value in (tolerance or {}).items():
        if isinstance(value, dict):
            value = (value["rtol"], value["atol"])
        rtol, atol = (float(x) for x in value)
        if rtol < 0 or atol < 0:
            raise PackError(f"tolerance {key!r}: rtol and atol must be >= 0")
        out[str(key)] = (rtol, atol)
    return out


def _normalize_inference(inference):
    if not inference:
        return None
    unknown = set(inference) - {"device", "threads", "max_batch"}
    if unknown:
        raise PackError(f"inference: unknown keys {sorted(unknown)}")
    if inference.get("device", "cpu") not in ("cpu", "cuda"):
        raise PackError("inference.device must be \"cpu\" or \"cuda\"")
    return {k: inference[k] for k in ("device", "threads", "max_batch") if k in inference}


# ----------------------------------------------------------------------------- writing

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_entries(bundle_dir):
    """[[files]] for every file under bundle_dir but bundle.toml and its signatures, by path."""
    root = Path(bundle_dir)
    entries = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink() or not p.is_file() or rel in ("bundle.toml", "bundle.toml.sig", "model.sig"):
            continue
        entries.append({"path": rel, "size": p.stat().st_size, "sha256": sha256_file(p)})
    return entries


def _fsync_tree(root):
    for dirpath, _, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(dirpath)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_in(staging, rel, source):
    if not rel or rel.startswith("/") or any(p in ("", ".", "..") for p in rel.split("/")):
        raise PackError(f"bundle path {rel!r} is not a safe relative path")
    dest = staging / rel
    if dest.exists():
        raise PackError(f"bundle path {rel!r} is used twice")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dest)


def write_bundle(out_dir, manifest, module, cases, outputs, extra_files, signing=None):
    """Writes everything into .<name>.tmp beside out_dir, signs it (`signing`: the keyword
    arguments of bundlegate_sign.sign_bundle), then renames it to out_dir."""
    target = Path(out_dir)
    if target.exists() or target.is_symlink():
        raise PackError(f"{target} exists already")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.tmp"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        (staging / "parity").mkdir()
        torch.jit.save(module, str(staging / MODEL_FILE))
        write_safetensors(staging / INPUTS_FILE, {f"{c}.{i}": t for c, args in cases.items() for i, t in enumerate(args)})
        write_safetensors(staging / EXPECTED_FILE, {f"{c}.{k}": t for c, outs in outputs.items() for k, t in outs.items()})
        for rel, source in extra_files.items():
            _copy_in(staging, rel, source)
        manifest["files"] = file_entries(staging)
        (staging / "bundle.toml").write_text(render_manifest(manifest), encoding="utf-8")
        if signing:
            _sign(staging, target.name, signing)
        _fsync_tree(staging)
        os.rename(staging, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _sign(staging, subject_name, signing):
    import bundlegate_sign  # beside this file; needs python3-cryptography for model.sig
    try:
        bundlegate_sign.sign_bundle(staging, subject_name=subject_name, **signing)
    except bundlegate_sign.SignError as e:
        raise PackError(f"signing: {e}") from e


def pack(model, inputs, out_dir, *, name, version, lockfile, preprocessing_spec, preprocessing_version,
         repo_dir=None, commit=None, dirty=None, branch=None, repo_url=None, lockfile_path=None,
         preprocessing_path=None, trace=False, set_module_attribute=True, signature=True,
         inference=None, tolerance=None, extra_files=None, created=None, metadata=None,
         check_eager=True, keep_training_mode=False, record_device=None, sign_key=None,
         sign_cert=None, sign_chain=(), ssh_key=None, ssh_namespace="bundlegate"):
    """Writes a bundle to out_dir and returns its Path. Raises PackError (nothing is left at
    out_dir) when it cannot. See the module docstring for the arguments' meaning."""
    if not NAME_RE.match(str(name)):
        raise PackError(f"name {name!r} does not match [a-z0-9][a-z0-9._-]{{0,63}}")
    if not VERSION_RE.match(str(version)):
        raise PackError(f"version {version!r} does not match [A-Za-z0-9][A-Za-z0-9._+-]{{0,63}}")
    for what, path in (("lockfile", lockfile), ("preprocessing spec", preprocessing_spec)):
        if not Path(path).is_file():
            raise PackError(f"{what} {path} is not a file")
    if not preprocessing_version:
        raise PackError("preprocessing_version must not be empty")
    if created is not None and not CREATED_RE.match(created):
        raise PackError(f"created {created!r} is not an RFC 3339 date-time such as 2026-11-28T10:00:00Z")
    for key, value in (metadata or {}).items():
        if not re.match(r"[A-Za-z0-9_-]+\Z", str(key)) or not isinstance(value, (str, int, float, bool)):
            raise PackError(f"metadata {key!r}: keys are [A-Za-z0-9_-]+, values strings, numbers or booleans")
    cases = normalize_cases(inputs)
    source = resolve_source(repo_dir, lockfile, preprocessing_spec, {
        "commit": commit, "dirty": dirty, "branch": branch, "repo": repo_url,
        "lockfile_path": lockfile_path, "preprocessing_path": preprocessing_path})
    module, eager = to_torchscript(model, cases, trace, keep_training_mode,
                                   preprocessing_version if set_module_attribute else None)
    device = torch.device(record_device or "cpu")
    if device.type == "cuda" and not torch.cuda.is_available():
        raise PackError("record_device is cuda, but this torch has no usable CUDA")
    # The expected outputs are recorded where the serving runtime will run the model (or on the
    # CPU); the saved model and the parity files are always written from the host.
    on_device = {c: tuple(t.to(device) for t in args) for c, args in cases.items()}
    module.to(device)
    outputs = record_outputs(module, on_device)
    if eager is not None and check_eager and not keep_training_mode:
        eager.to(device)
        check_against_eager(eager, outputs, on_device)
        eager.to("cpu")
    module.to("cpu")
    outputs = {c: {k: t.to("cpu") for k, t in outs.items()} for c, outs in outputs.items()}
    lock_name, spec_name = Path(lockfile).name, Path(preprocessing_spec).name
    files = {lock_name: lockfile, spec_name: preprocessing_spec}
    if lock_name == spec_name:
        raise PackError("the lockfile and the preprocessing spec have the same file name")
    files.update(extra_files or {})
    manifest = {
        "name": name, "version": version, "created": created or _now(), "source": source,
        "signature": model_signature(module) if signature else [],
        "inference": _normalize_inference(inference), "lockfile": lock_name,
        "preprocessing_version": preprocessing_version, "preprocessing_spec": spec_name,
        "tolerance": _normalize_tolerance(tolerance), "metadata": metadata,
    }
    signing = None
    if sign_key or ssh_key or sign_cert or sign_chain:
        signing = {"sign_key": sign_key, "sign_cert": sign_cert, "sign_chain": list(sign_chain),
                   "ssh_key": ssh_key, "ssh_namespace": ssh_namespace}
    return write_bundle(out_dir, manifest, module, cases, outputs, files, signing)


def refresh_files(bundle_dir):
    """Recomputes [[files]] in an existing bundle.toml after its files were edited (a tool for
    making test bundles; a real producer repacks)."""
    path = Path(bundle_dir) / "bundle.toml"
    text = path.read_text(encoding="utf-8")
    head = text.split("\n[[files]]\n")[0].rstrip("\n")
    lines = [head]
    for f in file_entries(bundle_dir):
        _table(lines, "[[files]]", [("path", f["path"]), ("size", f["size"]), ("sha256", f["sha256"])])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- command line

def _load_model(args):
    if args.factory:
        module_name, _, fn_name = args.factory.partition(":")
        if not fn_name:
            raise PackError("--factory must be MODULE:FUNCTION")
        model = getattr(importlib.import_module(module_name), fn_name)()
        if args.weights:
            model.load_state_dict(_torch_load(args.weights))
        return model
    try:
        return torch.jit.load(args.model, map_location="cpu")
    except Exception:  # not TorchScript: a whole pickled nn.Module
        model = _torch_load(args.model)
        if not isinstance(model, torch.nn.Module):
            raise PackError(f"{args.model} is neither TorchScript nor a saved nn.Module") from None
        return model


def _torch_load(path):
    kwargs = {"map_location": "cpu"}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = False  # a whole module is a pickle; the producer trusts its own file
    return torch.load(path, **kwargs)


def _load_inputs(path):
    if str(path).endswith(".safetensors"):
        cases = {}
        for name, t in read_safetensors(path).items():
            case, _, index = name.partition(".")
            cases.setdefault(case, {})[int(index)] = t
        return {c: tuple(args[i] for i in sorted(args)) for c, args in cases.items()}
    value = _torch_load(path)
    if not isinstance(value, dict):
        raise PackError(f"{path}: expected a dict {{case: tensors}}")
    return value


def _key_value(text, what):
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise PackError(f"{what} {text!r} is not KEY=VALUE")
    return key, value


def _parser():
    p = argparse.ArgumentParser(description="Write a bundlegate model bundle.",
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--model")
    src.add_argument("--factory")
    p.add_argument("--weights")
    p.add_argument("--inputs", required=True)
    p.add_argument("--trace", action="store_true")
    p.add_argument("--record-device", choices=["cpu", "cuda"])
    p.add_argument("--name", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--lockfile", required=True)
    p.add_argument("--preprocessing-spec", required=True)
    p.add_argument("--preprocessing-version", required=True)
    p.add_argument("--no-module-attribute", action="store_true")
    p.add_argument("--repo")
    p.add_argument("--commit")
    p.add_argument("--dirty", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--branch")
    p.add_argument("--repo-url")
    p.add_argument("--lockfile-path")
    p.add_argument("--preprocessing-path")
    p.add_argument("--device", choices=["cpu", "cuda"])
    p.add_argument("--threads", type=int)
    p.add_argument("--max-batch", type=int)
    p.add_argument("--tolerance", action="append", default=[])
    p.add_argument("--file", action="append", default=[])
    p.add_argument("--no-signature", action="store_true")
    p.add_argument("--created")
    p.add_argument("--sign-key")
    p.add_argument("--sign-cert")
    p.add_argument("--sign-chain", action="append", default=[])
    p.add_argument("--ssh-key")
    p.add_argument("--ssh-namespace", default="bundlegate")
    p.add_argument("--out", required=True)
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        tolerance = {}
        for t in args.tolerance:
            key, value = _key_value(t, "--tolerance")
            tolerance[key] = tuple(float(x) for x in value.split(","))
            if len(tolerance[key]) != 2:
                raise PackError(f"--tolerance {t!r}: expected KEY=RTOL,ATOL")
        inference = {k: v for k, v in (("device", args.device), ("threads", args.threads),
                                       ("max_batch", args.max_batch)) if v is not None}
        path = pack(_load_model(args), _load_inputs(args.inputs), args.out, name=args.name,
                    version=args.version, lockfile=args.lockfile,
                    preprocessing_spec=args.preprocessing_spec,
                    preprocessing_version=args.preprocessing_version, repo_dir=args.repo,
                    commit=args.commit, dirty=args.dirty, branch=args.branch, repo_url=args.repo_url,
                    lockfile_path=args.lockfile_path, preprocessing_path=args.preprocessing_path,
                    trace=args.trace, set_module_attribute=not args.no_module_attribute,
                    signature=not args.no_signature, inference=inference or None,
                    tolerance=tolerance, created=args.created, record_device=args.record_device,
                    extra_files=dict(_key_value(f, "--file") for f in args.file),
                    sign_key=args.sign_key, sign_cert=args.sign_cert, sign_chain=args.sign_chain,
                    ssh_key=args.ssh_key, ssh_namespace=args.ssh_namespace)
    except (PackError, ValueError, OSError) as e:
        print(f"bundlegate_pack: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

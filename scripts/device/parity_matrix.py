"""The CPU/CUDA parity matrix of the TorchScript plugin (issue 13), for the accelerator machine.

For each model (resnet18, mobilenet_v3_small, a transformer encoder, a GRU, a dict-output
model) and dtype (float32, float16, bfloat16) it makes one bundle with this machine's PyTorch
(scripts/bundlegate_pack.py), records the expected outputs on one device and has the plugin
check them on the other, as a serving host would:

  honest   recorded on cpu, checked on cuda; recorded on cuda, checked on cpu; each with TF32
           on and off (on the CUDA side: the plugin's `tf32`, or torch.backends flags when
           recording) and deterministic CUDA algorithms on and off; plus cpu/cpu and
           cuda/cuda controls
  perturbed  the same model with every parameter moved by noise of 1e-3 and 1e-2 of its own
           standard deviation (a real change, like a training step), checked where it was
           recorded: the default tolerances must catch it

For every run it keeps the verdict, the largest absolute and relative error over all outputs,
and the smallest rtol (at the default atol) and atol (at the default rtol) that would have
passed, then judges the defaults (assert_close's by dtype): an honest run that fails, or a
perturbation that passes, is a finding. Without CUDA (a CPU rehearsal) only the cpu rows run.

    parity_matrix.py --plugin BIN --out DIR [--quick] [--jobs N] [--models a,b] [--dtypes ...]

Writes DIR/matrix.json (every run) and DIR/matrix.md (the tables); prints the tables.
"""

import argparse
import itertools
import json
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[0]))  # scripts/, for bundlegate_pack
import bundlegate_pack  # noqa: E402
from plugin_runner import run_plugin  # noqa: E402

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
NOISE = (1e-3, 1e-2)


class Encoder(nn.Module):
    """A transformer encoder over float features (B, T, 64) -> (B, T, 64)."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128,
                                           dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2)

    def forward(self, x):
        return self.encoder(x)


class Gru(nn.Module):
    """A two-layer GRU: its output sequence and final state, both batch-first."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(32, 64, num_layers=2, batch_first=True)

    def forward(self, x):
        out, h = self.gru(x)
        return out, h.transpose(0, 1).contiguous()


class DictHead(nn.Module):
    """Logits and probabilities in a dict."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(48, 96), nn.GELU(), nn.Linear(96, 10))

    def forward(self, x):
        logits = self.body(x)
        return {"logits": logits, "probs": torch.softmax(logits, dim=-1)}


def _image_cases():
    return {"single": (torch.randn(1, 3, 224, 224),), "pair": (torch.randn(2, 3, 224, 224),)}


def make_model(name):
    """(nn.Module, cases) with fixed seeds."""
    torch.manual_seed(0)
    if name == "resnet18":
        import torchvision
        return torchvision.models.resnet18(weights=None), _image_cases()
    if name == "mobilenet_v3_small":
        import torchvision
        return torchvision.models.mobilenet_v3_small(weights=None), _image_cases()
    if name == "transformer":
        return Encoder(), {"short": (torch.randn(2, 7, 64),), "long": (torch.randn(3, 16, 64),)}
    if name == "gru":
        return Gru(), {"short": (torch.randn(2, 5, 32),), "long": (torch.randn(4, 20, 32),)}
    if name == "dict_head":
        return DictHead(), {"a": (torch.randn(4, 48),), "b": (torch.randn(2, 48),)}
    raise ValueError(name)


MODELS = ["resnet18", "mobilenet_v3_small", "transformer", "gru", "dict_head"]


def set_cuda_math(tf32, deterministic):
    """The recording side's CUDA math (torch.backends), on either TF32 API."""
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # 2.9+: never mix the two APIs
        precision = "tf32" if tf32 else "ieee"
        torch.backends.cuda.matmul.fp32_precision = precision
        torch.backends.cudnn.conv.fp32_precision = precision
    else:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(deterministic)


def producer_files(work):
    work.mkdir(parents=True, exist_ok=True)
    lock, spec = work / "requirements.lock", work / "preprocess.toml"
    lock.write_text(f"torch=={torch.__version__.split('+')[0]}\n")
    spec.write_text('version = "matrix-v1"\n')
    return lock, spec


def pack_bundle(out_dir, model_name, dtype_name, record_device):
    """Packs the model in that dtype, expected outputs recorded on record_device."""
    model, cases = make_model(model_name)
    dtype = DTYPES[dtype_name]
    model = model.to(dtype)
    cases = {c: tuple(t.to(dtype) if t.is_floating_point() else t for t in args)
             for c, args in cases.items()}
    lock, spec = producer_files(out_dir.parent / ".producer")
    return bundlegate_pack.pack(
        model, cases, out_dir, name=model_name.replace("_", "-"), version=f"{dtype_name}-1",
        lockfile=lock, preprocessing_spec=spec, preprocessing_version="matrix-v1",
        commit="0" * 40, dirty=False, branch="main", repo_url="matrix", lockfile_path="requirements.lock",
        preprocessing_path="preprocess.toml", created="2026-12-01T00:00:00Z",
        inference={"device": record_device, "threads": 4, "max_batch": 8},
        record_device=record_device, check_eager=False)


def rerecord(bundle, device):
    """Records the bundle's expected outputs again, on `device`, with the current torch flags."""
    module = torch.jit.load(str(bundle / "model.pt"), map_location=device)
    inputs = bundlegate_pack.read_safetensors(bundle / bundlegate_pack.INPUTS_FILE)
    cases = {}
    for key, t in inputs.items():
        case, index = key.rsplit(".", 1)
        cases.setdefault(case, {})[int(index)] = t.to(device)
    cases = {c: tuple(args[i] for i in sorted(args)) for c, args in cases.items()}
    outputs = bundlegate_pack.record_outputs(module, cases)
    bundlegate_pack.write_safetensors(
        bundle / bundlegate_pack.EXPECTED_FILE,
        {f"{c}.{k}": t.to("cpu") for c, outs in outputs.items() for k, t in outs.items()})
    bundlegate_pack.refresh_files(bundle)


def perturb(bundle, noise):
    module = torch.jit.load(str(bundle / "model.pt"))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            if p.is_floating_point() and p.numel() > 1:
                scale = p.float().std() * noise
                p.add_((torch.randn(p.shape, generator=generator) * scale).to(p.dtype))
    torch.jit.save(module, str(bundle / "model.pt"))
    bundlegate_pack.refresh_files(bundle)


def summarize(run):
    outputs = run.result.get("details", {}).get("outputs", [])
    stats = {"max_abs_err": 0.0, "max_rel_err": 0.0, "min_rtol": 0.0, "min_atol": 0.0}
    unpassable = False
    for o in outputs:
        for k in ("max_abs_err", "max_rel_err"):
            stats[k] = max(stats[k], float(o.get(k) or 0.0))
        for k in ("min_rtol", "min_atol"):
            if o.get(k) is not None:
                stats[k] = max(stats[k], float(o[k]))
            elif o.get("mismatched", 0):
                unpassable = True  # no such tolerance would pass (an expected zero differs)
    findings = [f.get("reason", "") for f in run.result.get("details", {}).get("findings", [])]
    notes = run.result.get("details", {}).get("notes", [])
    stats["vacuous"] = any("cannot tell a changed model" in n for n in notes)
    return {"verdict": run.verdict, "findings": sorted(set(findings)), "unpassable": unpassable,
            "wall_s": round(run.wall_s, 3), "load_ms": run.result.get("metrics", {}).get("load_ms"),
            "summary": run.result.get("summary", "")[:300],
            "stderr_tail": "" if run.result else run.stderr_tail, **stats}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--plugin", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--quick", action="store_true", help="float32 only, no deterministic variants")
    p.add_argument("--jobs", type=int, default=4)
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--dtypes", default=",".join(DTYPES))
    args = p.parse_args(argv)
    out = Path(args.out)
    bundles = out / "matrix-bundles"
    shutil.rmtree(bundles, ignore_errors=True)
    bundles.mkdir(parents=True)
    cuda = torch.cuda.is_available()
    models = args.models.split(",")
    dtypes = ["float32"] if args.quick else args.dtypes.split(",")
    dets = [False] if args.quick else [False, True]
    started = time.monotonic()

    # 1. Bundles (sequential: recording flips process-wide torch flags).
    plan = []  # (row, bundle, check_device, plugin config)
    notes = []
    for model_name, dtype_name in itertools.product(models, dtypes):
        key = f"{model_name}-{dtype_name}"
        base = {"model": model_name, "dtype": dtype_name}
        sources = {}
        for device in ["cpu"] + (["cuda"] if cuda else []):
            target = bundles / f"{key}-rec-{device}"
            try:
                if device == "cuda":
                    set_cuda_math(tf32=False, deterministic=False)
                pack_bundle(target, model_name, dtype_name, device)
                sources[device] = target
            except Exception as e:  # noqa: BLE001: an unsupported dtype on a device is data
                notes.append(f"{key}: cannot record on {device}: {str(e).splitlines()[0][:200]}")
        if not sources:
            continue
        seed = next(iter(sources.values()))
        # Honest rows.
        if "cpu" in sources:
            plan.append(({**base, "kind": "honest", "recorded": "cpu", "checked": "cpu"},
                         sources["cpu"], {"devices": ["cpu"]}))
        if cuda:
            for tf32, det in itertools.product(["off", "on"], dets):
                if "cpu" in sources:
                    plan.append(({**base, "kind": "honest", "recorded": "cpu", "checked": "cuda",
                                  "tf32": tf32, "deterministic": det}, sources["cpu"],
                                 {"devices": ["cuda"], "tf32": tf32, "cuda_deterministic": det}))
                plan.append(({**base, "kind": "honest", "recorded": "cuda", "checked": "cuda",
                              "tf32": tf32, "deterministic": det}, sources.get("cuda", seed),
                             {"devices": ["cuda"], "tf32": tf32, "cuda_deterministic": det}))
            plan.append(({**base, "kind": "honest", "recorded": "cpu", "checked": "cuda",
                          "tf32": "libtorch-default", "deterministic": False}, sources.get("cpu", seed),
                         {"devices": ["cuda"]}))
            for tf32, det in itertools.product([False, True], dets):
                target = bundles / f"{key}-rec-cuda-tf32{int(tf32)}-det{int(det)}"
                shutil.copytree(seed, target)
                set_cuda_math(tf32, det)
                try:
                    rerecord(target, "cuda")
                except Exception as e:  # noqa: BLE001
                    notes.append(f"{key}: cannot record on cuda (tf32={tf32}, det={det}): {e}")
                    continue
                finally:
                    set_cuda_math(False, False)
                if "cpu" in sources:
                    plan.append(({**base, "kind": "honest", "recorded": "cuda", "checked": "cpu",
                                  "tf32": "on" if tf32 else "off", "deterministic": det}, target,
                                 {"devices": ["cpu"]}))
        # Perturbed rows: checked where recorded, with the defaults.
        for device, source in sources.items():
            for noise in NOISE:
                target = bundles / f"{key}-perturbed-{noise:g}-{device}"
                shutil.copytree(source, target)
                perturb(target, noise)
                config = {"devices": [device]}
                if device == "cuda":
                    config["tf32"] = "off"
                plan.append(({**base, "kind": f"perturbed {noise:g}", "recorded": device,
                              "checked": device}, target, config))

    # 2. Plugin runs (in parallel: each is its own process).
    def check(item):
        row, bundle, config = item
        return {**row, **summarize(run_plugin(args.plugin, bundle, config, timeout_s=600))}

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(check, plan))
    for r in rows:
        honest = r["kind"] == "honest"
        r["defaults_ok"] = (r["verdict"] == "pass") if honest else (r["verdict"] != "pass")
    report = {"torch": torch.__version__, "cuda": cuda,
              "device_name": torch.cuda.get_device_name(0) if cuda else None,
              "seconds": round(time.monotonic() - started, 1), "notes": notes, "rows": rows}
    (out / "matrix.json").write_text(json.dumps(report, indent=1))
    text = render(report)
    (out / "matrix.md").write_text(text)
    print(text)
    return 0


def render(report):
    lines = [f"# Parity matrix: torch {report['torch']}, "
             f"{report['device_name'] or 'no CUDA'}, {report['seconds']} s", ""]
    header = ("| model | dtype | kind | recorded | checked | tf32 | det | verdict | max abs err "
              "| max rel err | min rtol | min atol | defaults right |")
    lines += [header, "|" + "---|" * 13]
    for r in report["rows"]:
        lines.append(
            f"| {r['model']} | {r['dtype']} | {r['kind']} | {r['recorded']} | {r['checked']} | "
            f"{r.get('tf32', '')} | {'on' if r.get('deterministic') else 'off' if 'deterministic' in r else ''} | "
            f"{r['verdict']} | {r['max_abs_err']:.3g} | {r['max_rel_err']:.3g} | "
            f"{r['min_rtol']:.3g}{' (none)' if r['unpassable'] else ''} | {r['min_atol']:.3g} | "
            f"{'yes' if r['defaults_ok'] else '**no**'}{' (outputs below atol)' if r.get('vacuous') else ''} |")
    wrong = [r for r in report["rows"] if not r["defaults_ok"]]
    lines += ["", f"{len(report['rows'])} runs; the defaults were wrong in {len(wrong)}."]
    if report["notes"]:
        lines += ["", "Notes:"] + [f"- {n}" for n in report["notes"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Makes the TorchScript bundles that the plugin's interop tests (and the agent's plugin runner
tests) check: real models, random weights, packed with scripts/bundlegate_pack.py, then
broken on purpose where the fixture's name says so.

    make_torch_fixtures.py OUT_DIR [NAME ...]     (default: every fixture)
    make_torch_fixtures.py --list

Each fixture is a complete bundle OUT_DIR/NAME whose [[files]] sizes and hashes are true
(after any deliberate damage), so the agent's integrity check passes and the failure reaches
the plugin. The expected verdict of the TorchScript plugin (default config) is in FIXTURES.

Process-level failures, for the agent's runner (the plugin cannot report these itself):
  forward-crashes    forward computes an integer remainder by zero in the TorchScript
                     interpreter: the plugin process dies of SIGFPE
  forward-hangs      forward loops forever (CPU-bound): the plugin never answers
  forward-allocates  forward doubles a tensor forever: the plugin's memory grows without bound
                     (under an address-space limit, RLIMIT_AS, LibTorch's allocator soon fails
                     and the plugin reports parity-mismatch "can't allocate memory"; under a
                     cgroup memory limit the kernel kills it)

Run with the Debian python that has torch: /usr/bin/python3.
"""

import shutil
import sys
import zlib
from pathlib import Path
from typing import Dict

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import bundlegate_pack  # noqa: E402

COMMIT = "3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b"
PREPROCESSING = "imagenet-norm-v2"


class Tiny(nn.Module):
    """A small MLP, the base of most failure fixtures."""

    def __init__(self, hidden: int = 16):
        super().__init__()
        self.fc1 = nn.Linear(8, hidden)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(hidden, 4)

    def forward(self, x):
        return self.fc2(self.drop(torch.relu(self.fc1(x))))


class TinyWider(nn.Module):
    """Tiny's rival: another width and one more layer (architecture-mismatch)."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 32)
        self.drop = nn.Dropout(0.5)
        self.fc2 = nn.Linear(32, 4)
        self.extra = nn.Linear(4, 4)

    def forward(self, x):
        return self.extra(self.fc2(self.drop(torch.relu(self.fc1(x)))))


class Misbehave(nn.Module):
    """Behaves at packing time (mode 0); the fixture then flips `mode` in the saved model."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.mode = 0
        self.divisor = 1

    def forward(self, x):
        if self.mode == 1:
            raise RuntimeError("deliberate failure in forward")
        if self.mode == 2:
            # aten::remainder.int has no zero check: SIGFPE in the interpreter.
            return self.fc(x) * float(7 % self.divisor)
        if self.mode == 3:
            i = 0
            while i >= 0:
                i = i + 1
            return self.fc(x) + float(i) * 0.0  # uses i, so the loop is never optimized away
        if self.mode == 4:
            hoard = torch.ones(1 << 10)
            while hoard.numel() > 0:
                hoard = torch.cat([hoard, hoard])
            return self.fc(x) + hoard.sum()
        return self.fc(x)


class BatchNormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 16)
        self.bn = nn.BatchNorm1d(16)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(torch.relu(self.bn(self.fc(x))))


class LeakyBatch(nn.Module):
    """Eval mode, yet each sample's output depends on the rest of the batch."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = self.fc(x)
        return h - h.mean(0, keepdim=True)


class Noisy(nn.Module):
    """Eval mode, within tolerance of the recorded output, but never twice the same."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        y = self.fc(x)
        return y + torch.rand_like(y) * 1e-6


class RefusesEmpty(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        if x.size(0) == 0:
            raise ValueError("empty batch")
        return self.fc(x)


class CastsInput(nn.Module):
    """Accepts any dtype (casts first): fails wrong_dtype = "error"."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x.float())


class ManyOutputs(nn.Module):
    """A tuple of outputs of several dtypes (exact integer and bool comparison, fp16, bf16)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 6)

    def forward(self, x, scale):
        y = self.fc(x) * scale
        return y, y.argmax(1), y > 0, y.to(torch.float16), y.to(torch.bfloat16), y.double()


class TokenEncoder(nn.Module):
    """A small transformer encoder over token ids, returning a dict."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(100, 32)
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2)
        self.head = nn.Linear(32, 5)

    def forward(self, tokens) -> Dict[str, torch.Tensor]:
        h = self.encoder(self.embed(tokens))
        return {"logits": self.head(h), "pooled": h.mean(1)}


class RecurrentBf16(nn.Module):
    """A GRU in bfloat16: a row run alone takes other kernels than its batch, so it differs by
    bfloat16's rounding of the accumulation, not by a leak (passes batch consistency)."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(16, 32, num_layers=2, batch_first=True)

    def forward(self, x):
        out, _ = self.gru(x)
        return out


class Whisper(nn.Module):
    """Outputs far below atol (1e-5): a comparison that cannot tell a changed model (a note)."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        return self.fc(x) * 1e-9


def _producer_files(work):
    work.mkdir(parents=True, exist_ok=True)
    lock = work / "requirements.lock"
    lock.write_text("torch==1.13.0\ntorchvision==0.14.1\n")
    spec = work / "preprocess.toml"
    spec.write_text('version = "imagenet-norm-v2"\nmean = [0.485, 0.456, 0.406]\n')
    return lock, spec


def _pack(out, name, model, cases, work, **kwargs):
    lock, spec = _producer_files(work)
    kwargs.setdefault("inference", {"device": "cpu", "threads": 1, "max_batch": 8})
    return bundlegate_pack.pack(
        model, cases, out / name, name=name, version="1.0.0", lockfile=lock,
        preprocessing_spec=spec, preprocessing_version=PREPROCESSING, commit=COMMIT, dirty=False,
        branch="main", repo_url="git@example.com:acme/models.git", lockfile_path="requirements.lock",
        preprocessing_path="conf/preprocess.toml", created="2026-11-28T10:00:00Z", **kwargs)


def _tiny_cases():
    return {"a": (torch.randn(4, 8),), "b": (torch.randn(2, 8),)}


def _replace_model(bundle, module):
    """Saves `module` over the bundle's model.pt and re-hashes [[files]]."""
    torch.jit.save(module, str(bundle / "model.pt"))
    bundlegate_pack.refresh_files(bundle)


def _reload(bundle):
    return torch.jit.load(str(bundle / "model.pt"))


# ----------------------------------------------------------------------------- fixtures

def resnet18(out, work):
    import torchvision
    cases = {"single": (torch.randn(1, 3, 224, 224),), "pair": (torch.randn(2, 3, 224, 224),)}
    _pack(out, "resnet18", torchvision.models.resnet18(weights=None), cases, work)


def mobilenet_v3_small(out, work):
    import torchvision
    cases = {"single": (torch.randn(1, 3, 224, 224),), "pair": (torch.randn(2, 3, 224, 224),)}
    _pack(out, "mobilenet-v3-small", torchvision.models.mobilenet_v3_small(weights=None), cases, work)


def transformer(out, work):
    cases = {"short": (torch.randint(0, 100, (2, 7)),), "long": (torch.randint(0, 100, (3, 16)),)}
    _pack(out, "transformer", TokenEncoder(), cases, work, tolerance={"logits": (1e-5, 1e-5)})


def many_outputs(out, work):
    cases = {"a": (torch.randn(3, 8), torch.tensor(2.0)), "b": (torch.randn(2, 8), torch.tensor(0.5))}
    _pack(out, "many-outputs", ManyOutputs(), cases, work)


def tiny(out, work):
    _pack(out, "tiny", Tiny(), _tiny_cases(), work)


def traced_tiny(out, work):
    _pack(out, "traced-tiny", Tiny(), _tiny_cases(), work, trace=True)


def gru_bf16(out, work):
    cases = {"short": (torch.randn(2, 5, 16).bfloat16(),), "long": (torch.randn(4, 20, 16).bfloat16(),)}
    _pack(out, "gru-bf16", RecurrentBf16().bfloat16(), cases, work)


def tiny_outputs(out, work):
    _pack(out, "tiny-outputs", Whisper(), _tiny_cases(), work)


def dropout_train(out, work):
    bundle = _pack(out, "dropout-train", Tiny(), _tiny_cases(), work)
    module = _reload(bundle)
    module.drop.train()
    _replace_model(bundle, module)


def perturbed_weights(out, work):
    bundle = _pack(out, "perturbed-weights", Tiny(), _tiny_cases(), work)
    module = _reload(bundle)
    with torch.no_grad():
        module.fc2.weight.add_(torch.randn_like(module.fc2.weight) * 0.05)
    _replace_model(bundle, module)


def non_finite(out, work):
    bundle = _pack(out, "non-finite", Tiny(), _tiny_cases(), work)
    module = _reload(bundle)
    with torch.no_grad():
        module.fc2.weight[0, 0] = float("nan")
    _replace_model(bundle, module)


def preprocessing_mismatch(out, work):
    bundle = _pack(out, "preprocessing-mismatch", Tiny(), _tiny_cases(), work)
    module = _reload(bundle)
    module.preprocessing_version = "imagenet-norm-v1"
    _replace_model(bundle, module)


def architecture_mismatch(out, work):
    bundle = _pack(out, "architecture-mismatch", Tiny(), _tiny_cases(), work)
    other = torch.jit.script(TinyWider().eval())
    bundlegate_pack.set_preprocessing_version(other, PREPROCESSING)
    _replace_model(bundle, other)


def pickled_model(out, work):
    bundle = _pack(out, "pickled-model", Tiny(), _tiny_cases(), work)
    torch.save(Tiny().eval(), str(bundle / "model.pt"))
    bundlegate_pack.refresh_files(bundle)


def truncated_model(out, work):
    bundle = _pack(out, "truncated-model", Tiny(), _tiny_cases(), work)
    data = (bundle / "model.pt").read_bytes()
    (bundle / "model.pt").write_bytes(data[: len(data) // 2])
    bundlegate_pack.refresh_files(bundle)


def empty_model(out, work):
    bundle = _pack(out, "empty-model", Tiny(), _tiny_cases(), work)
    (bundle / "model.pt").write_bytes(b"")
    bundlegate_pack.refresh_files(bundle)


def garbage_model(out, work):
    bundle = _pack(out, "garbage-model", Tiny(), _tiny_cases(), work)
    (bundle / "model.pt").write_bytes(bytes(range(256)) * 64)
    bundlegate_pack.refresh_files(bundle)


def _misbehaving(out, work, name, **attributes):
    bundle = _pack(out, name, Misbehave(), _tiny_cases(), work)
    module = _reload(bundle)
    for key, value in attributes.items():
        setattr(module, key, value)
    _replace_model(bundle, module)


def forward_raises(out, work):
    _misbehaving(out, work, "forward-raises", mode=1)


def forward_crashes(out, work):
    _misbehaving(out, work, "forward-crashes", mode=2, divisor=0)


def forward_hangs(out, work):
    _misbehaving(out, work, "forward-hangs", mode=3)


def forward_allocates(out, work):
    _misbehaving(out, work, "forward-allocates", mode=4)


def batchnorm_train(out, work):
    _pack(out, "batchnorm-train", BatchNormNet().train(), _tiny_cases(), work, keep_training_mode=True)


def leaky_batch(out, work):
    _pack(out, "leaky-batch", LeakyBatch(), _tiny_cases(), work)


def nondeterministic(out, work):
    _pack(out, "nondeterministic", Noisy(), _tiny_cases(), work)


def refuses_empty(out, work):
    _pack(out, "refuses-empty-batch", RefusesEmpty(), _tiny_cases(), work)


def casts_input(out, work):
    _pack(out, "casts-input", CastsInput(), _tiny_cases(), work)


# name -> (maker, the plugin's verdict with its default config)
FIXTURES = {
    "resnet18": (resnet18, "pass"),
    "mobilenet-v3-small": (mobilenet_v3_small, "pass"),
    "transformer": (transformer, "pass"),
    "many-outputs": (many_outputs, "pass"),
    "tiny": (tiny, "pass"),
    "traced-tiny": (traced_tiny, "pass"),
    "gru-bf16": (gru_bf16, "pass"),
    "tiny-outputs": (tiny_outputs, "pass"),
    "dropout-train": (dropout_train, "training-mode"),
    "perturbed-weights": (perturbed_weights, "parity-mismatch"),
    "non-finite": (non_finite, "non-finite-output"),
    "preprocessing-mismatch": (preprocessing_mismatch, "preprocessing-spec-mismatch"),
    "architecture-mismatch": (architecture_mismatch, "architecture-mismatch"),
    "pickled-model": (pickled_model, "model-load-failed"),
    "truncated-model": (truncated_model, "model-load-failed"),
    "empty-model": (empty_model, "model-load-failed"),
    "garbage-model": (garbage_model, "model-load-failed"),
    "forward-raises": (forward_raises, "parity-mismatch"),
    "forward-crashes": (forward_crashes, "crash (SIGFPE)"),
    "forward-hangs": (forward_hangs, "hang"),
    "forward-allocates": (forward_allocates, "unbounded memory"),
    "batchnorm-train": (batchnorm_train, "training-mode"),
    "leaky-batch": (leaky_batch, "batch-inconsistent"),
    "nondeterministic": (nondeterministic, "nondeterministic"),
    "refuses-empty-batch": (refuses_empty, "pass"),
    "casts-input": (casts_input, "edge-case-failed"),
}


def main(argv):
    if argv[1:] == ["--list"]:
        for name, (_, verdict) in FIXTURES.items():
            print(f"{name}\t{verdict}")
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    names = argv[2:] or list(FIXTURES)
    unknown = [n for n in names if n not in FIXTURES]
    if unknown:
        print(f"unknown fixtures: {', '.join(unknown)}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".producer"
    for name in names:
        torch.manual_seed(zlib.crc32(name.encode()))
        FIXTURES[name][0](out, work)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

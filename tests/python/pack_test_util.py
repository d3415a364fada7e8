"""Shared helpers for the pack script's tests: a tiny model, producer files, a temp dir."""

import shutil
import tempfile
import tomllib
import unittest
from pathlib import Path

import torch
from torch import nn

import bundlegate_pack

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class TwoHeads(nn.Module):
    """Linear + batch norm (buffers) + dropout, returning a dict."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        h = self.drop(self.bn(self.fc(x)))
        return {"logits": h, "label": h.argmax(1)}


def cases():
    torch.manual_seed(0)
    return {"a": (torch.randn(2, 4),), "b": torch.randn(3, 4)}


class PackTestCase(unittest.TestCase):
    """A temp directory with a lockfile and a preprocessing spec, removed afterwards."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="bundlegate-pack-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.lock = self.tmp / "requirements.lock"
        self.lock.write_text("torch==1.13.0\n")
        (self.tmp / "conf").mkdir()
        self.spec = self.tmp / "conf" / "preprocess.toml"
        self.spec.write_text('version = "v2"\n')

    def pack(self, model=None, inputs=None, out=None, **kwargs):
        provenance = dict(commit=COMMIT, dirty=False, lockfile_path="requirements.lock",
                          preprocessing_path="conf/preprocess.toml")
        provenance.update(kwargs)
        return bundlegate_pack.pack(
            model if model is not None else TwoHeads(), inputs if inputs is not None else cases(),
            out if out is not None else self.tmp / "inbox" / "bundle", name="two-heads",
            version="1.0.0", lockfile=self.lock, preprocessing_spec=self.spec,
            preprocessing_version="v2", **provenance)

    @staticmethod
    def manifest(bundle):
        with open(Path(bundle) / "bundle.toml", "rb") as f:
            return tomllib.load(f)

#!/usr/bin/python3
"""The bundles of the container test (tests/system/container_test.sh), written by the real
producer library (scripts/bundlegate_pack.py) straight into the inbox, the recommended way
(staging directory .<name>.tmp, then rename). The test runs this as a member of group
bundlegate with umask 022, so what it creates is exactly what a producer's pipeline would.

    make_container_bundles.py INBOX NAME...

  threads      a small MLP with [inference] threads = 4: LibTorch's thread pool reads
               /proc/cpuinfo (ProcSubset=pid broke it)                          -> promoted
  convnet      resnet18 (random weights, small images): oneDNN compiles its convolution
               kernels at run time (MemoryDenyWriteExecute=yes broke it)        -> promoted
  perturbed    the MLP with its weights changed after packing                   -> parity-mismatch
  slow         resnet18 on larger images and batches: seconds of checking, for the drain test
               (the agent is stopped while it checks this one)                  -> promoted
"""

import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import bundlegate_pack  # noqa: E402

COMMIT = "3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b"


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 64)
        self.fc2 = nn.Linear(64, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def producer_files(work):
    work.mkdir(parents=True, exist_ok=True)
    lock = work / "requirements.lock"
    lock.write_text("torch==1.13.0\ntorchvision==0.14.1\n")
    spec = work / "preprocess.toml"
    spec.write_text('version = "imagenet-norm-v2"\nmean = [0.485, 0.456, 0.406]\n')
    return lock, spec


def pack(inbox, work, name, model, cases, threads=1, **kwargs):
    lock, spec = producer_files(work)
    return bundlegate_pack.pack(
        model, cases, inbox / name, name=name, version="1.0.0", lockfile=lock,
        preprocessing_spec=spec, preprocessing_version="imagenet-norm-v2", commit=COMMIT,
        dirty=False, branch="main", repo_url="git@example.com:acme/models.git",
        lockfile_path="requirements.lock", preprocessing_path="conf/preprocess.toml",
        inference={"device": "cpu", "threads": threads, "max_batch": 8}, **kwargs)


def resnet18():
    import torchvision
    return torchvision.models.resnet18(weights=None)


def make(inbox, work, name):
    torch.manual_seed(len(name))
    if name == "threads":
        pack(inbox, work, name, Mlp(), {"a": (torch.randn(64, 8),), "b": (torch.randn(3, 8),)},
             threads=4)
    elif name == "convnet":
        pack(inbox, work, name, resnet18(),
             {"one": (torch.randn(1, 3, 64, 64),), "two": (torch.randn(2, 3, 64, 64),)}, threads=2)
    elif name == "perturbed":
        # Packed right, then the model is changed: integrity still passes (re-hashed), parity not.
        staging = inbox / ".perturbed-staging"  # ignored by the agent: a leading "."
        bundle = pack(staging, work, name, Mlp(), {"a": (torch.randn(4, 8),)})
        module = torch.jit.load(str(bundle / "model.pt"))
        with torch.no_grad():
            module.fc2.weight.add_(torch.randn_like(module.fc2.weight) * 0.05)
        torch.jit.save(module, str(bundle / "model.pt"))
        bundlegate_pack.refresh_files(bundle)
        bundle.rename(inbox / name)
        staging.rmdir()
    elif name == "slow":
        pack(inbox, work, name, resnet18(),
             {"a": (torch.randn(4, 3, 160, 160),), "b": (torch.randn(8, 3, 160, 160),)})
    else:
        raise SystemExit(f"unknown bundle {name}")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    inbox = Path(argv[1])
    work = Path.home() / "producer-files"  # the lockfile and spec the producer packs from
    for name in argv[2:]:
        make(inbox, work, name)
        print(name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

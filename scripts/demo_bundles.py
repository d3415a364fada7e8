#!/usr/bin/python3
"""The demo that scripts/run shows a newcomer: a training repository and two bundles.

    demo_bundles.py repo DIR          create the demo training repository at DIR (git, a tagged
                                      commit with requirements.lock and conf/preprocess.toml),
                                      unless it exists
    demo_bundles.py drop INBOX REPO   write two bundles of the demo model "fraud-scorer" into
                                      INBOX, the way a training pipeline would:
                                        fraud-scorer-<v>       good: promoted
                                        fraud-scorer-<v>-bad   its weights changed after export,
                                                               hashes redone: the parity check
                                                               rejects it (parity-mismatch)

Versions carry the current time, so every run drops new versions. Needs torch (Debian's
python3-torch); uses scripts/bundlegate_pack.py, the producer's side of the gate.
"""
import datetime
import os
import shutil
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bundlegate_pack  # noqa: E402

LOCKFILE = """# pip-compile --generate-hashes would add hashes; this demo pins versions only
numpy==1.24.2
torch==1.13.1
"""
PREPROCESS = """# How serving turns a transaction into the model's 16 features.
version = "tabular-v1"
[scale]
mean = 0.0
std = 1.0
"""


def git(repo, *args):
    subprocess.run(["git", "-C", repo, "-c", "user.name=Demo Trainer",
                    "-c", "user.email=trainer@example.com", *args],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_repo(repo):
    if os.path.isdir(os.path.join(repo, ".git")):
        return
    os.makedirs(os.path.join(repo, "conf"), exist_ok=True)
    with open(os.path.join(repo, "requirements.lock"), "w") as f:
        f.write(LOCKFILE)
    with open(os.path.join(repo, "conf", "preprocess.toml"), "w") as f:
        f.write(PREPROCESS)
    with open(os.path.join(repo, "train.py"), "w") as f:
        f.write("# the training code of the demo model\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Train the fraud scorer")
    git(repo, "tag", "v1")


def model(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))


def pack(out, version, repo, net):
    torch.manual_seed(7)
    cases = {"one": (torch.randn(1, 16),), "batch8": (torch.randn(8, 16),)}
    return bundlegate_pack.pack(
        net, cases, out, name="fraud-scorer", version=version,
        lockfile=os.path.join(repo, "requirements.lock"),
        preprocessing_spec=os.path.join(repo, "conf", "preprocess.toml"),
        preprocessing_version="tabular-v1", repo_dir=repo,
        inference={"device": "cpu", "threads": 1, "max_batch": 64})


def drop(inbox, repo):
    version = datetime.datetime.utcnow().strftime("%Y.%m.%d-%H%M%S")
    good = pack(os.path.join(inbox, f"fraud-scorer-{version}"), version, repo, model(1))
    print(f"dropped {good} (should be promoted)")

    # The bad one: packed, then its model.pt replaced by one with other weights and the hashes
    # redone, as if the export had picked up the wrong checkpoint. Only parity can tell.
    staging = tempfile.mkdtemp(prefix=".demo-", dir=os.path.dirname(os.path.abspath(inbox)))
    try:
        bad_version = version + "-bad"
        bad = pack(os.path.join(staging, "bundle"), bad_version, repo, model(1))
        other = model(2).eval()
        scripted = torch.jit.script(other)
        bundlegate_pack.set_preprocessing_version(scripted, "tabular-v1")
        torch.jit.save(scripted, str(bad / "model.pt"))
        bundlegate_pack.refresh_files(bad)
        target = os.path.join(inbox, f"fraud-scorer-{bad_version}")
        os.rename(bad, target)
        print(f"dropped {target} (should be rejected: parity-mismatch)")
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv):
    if len(argv) == 3 and argv[1] == "repo":
        make_repo(argv[2])
    elif len(argv) == 4 and argv[1] == "drop":
        drop(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

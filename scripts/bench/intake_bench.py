#!/usr/bin/env python3
"""Copy intake of a large bundle: XFS with reflinks vs ext4 vs plain `cp`, in one run.

    sudo scripts/bench/intake_bench.py [--sizes-mib 256,1024,4096] [--runs 3] [--keep]

Makes two filesystems in sparse images, loop-mounted (needs root, loop devices, mkfs.xfs from
xfsprogs): XFS with reflink=1 and ext4. On each it runs the real `bundlegate run` (copy intake,
its root on that filesystem, no plugins) and, in alternating rounds, for each size:
  agent      drops a bundle holding one SIZE file (random bytes) plus the usual small files by
             rename(2), and times rename -> `promoted` audit record (settle_ms = 50 included):
             claim, copy (reflink on XFS, copy_file_range on ext4: see the record's
             "intake_copy"), hashing from the copy, checks, promotion
  cp         `cp -r` of the same bundle directory on the same filesystem (coreutils 9 reflinks
             by default on XFS, and copies with copy_file_range on ext4)
  openssl    `openssl dgst -sha256` of the big file: the hashing that no intake can skip
and prints medians and each figure as a ratio to openssl's on that filesystem. The goal
(issue 10): reflink intake time independent of the size apart from hashing, i.e. the agent's
time on XFS close to openssl's plus a constant, where ext4's grows by a copy.

The images sit in a temp dir on the root filesystem, so reads of a "cold" clone come from the
host's page cache of the image file, not a disk: the figures are the CPU and memory traffic of
each means, the best case for the copy. Standard library only; needs the built binary.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("BUNDLEGATE_BIN", os.path.join(HERE, "..", "..", "build", "bin", "bundlegate"))
SMALL = {
    "requirements.lock": b"numpy==1.26.4\n",
    "preprocess.toml": b"[resize]\nsize = 256\n",
    "parity/inputs.safetensors": b"inputs",
    "parity/expected.safetensors": b"expected",
}


def sh(*argv):
    r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()}")


def manifest(version, files):
    toml = f"""format = 1
name = "big"
version = "{version}"
created = 2026-11-28T10:00:00Z
[source]
commit = "{'a' * 40}"
dirty = false
lockfile_path = "requirements.lock"
preprocessing_path = "preprocess.toml"
[model]
path = "model.pt"
format = "torchscript"
[dependencies]
lockfile = "requirements.lock"
[preprocessing]
version = "v1"
spec = "preprocess.toml"
[parity]
inputs = "parity/inputs.safetensors"
expected = "parity/expected.safetensors"
"""
    for rel, (size, digest) in sorted(files.items()):
        toml += f'[[files]]\npath = "{rel}"\nsize = {size}\nsha256 = "{digest}"\n'
    return toml


class Fs:
    """A loop-mounted filesystem with an agent whose root is on it."""

    def __init__(self, work, kind, image_bytes):
        self.kind = kind
        self.dir = os.path.join(work, kind)
        os.makedirs(self.dir)
        image = os.path.join(self.dir, "fs.img")
        with open(image, "wb") as f:
            f.truncate(image_bytes)
        if kind == "xfs-reflink":
            sh("mkfs.xfs", "-q", "-m", "reflink=1", image)
        else:
            sh("mkfs.ext4", "-q", "-F", image)
        self.mnt = os.path.join(self.dir, "mnt")
        os.makedirs(self.mnt)
        sh("mount", "-o", "loop", image, self.mnt)
        self.root = os.path.join(self.mnt, "root")
        self.inbox = os.path.join(self.root, "inbox")
        self.audit = os.path.join(self.root, "audit.jsonl")
        self.sources = {}  # size -> path of the big file, outside the inbox
        config = os.path.join(self.dir, "bg.toml")
        with open(config, "w") as f:
            f.write(f'intake = "copy"\nrequire_parity = false\nworkers = 2\n[paths]\nroot = "{self.root}"\n'
                    f"[watch]\nsettle_ms = 50\n[serving]\nkeep_versions = 1\n")
        self.log = open(os.path.join(self.dir, "agent.log"), "w")
        self.proc = subprocess.Popen([BIN, "run", "--config", config], stderr=self.log)
        self.offset = 0
        self.records = []
        self.n = 0
        self.wait(lambda r: r["event"] == "started")

    def poll(self):
        with open(self.audit, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self.offset += end
        self.records += [json.loads(line) for line in data[:end].splitlines()]

    def wait(self, pred, timeout=900):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.audit):
                self.poll()
            found = [r for r in self.records if pred(r)]
            if found:
                return found[0]
            time.sleep(0.002)
        raise TimeoutError(f"{self.kind}: no such audit record; see {self.log.name}")

    def add_source(self, size, data_path, digest):
        path = os.path.join(self.mnt, f"src-{size}.bin")
        shutil.copyfile(data_path, path)
        os.sync()
        self.sources[size] = (path, digest)

    def stage(self, size):
        """A bundle in inbox/.bN.tmp holding the big file (a fresh inode) and the small files."""
        self.n += 1
        name = f"b{self.n}"
        staging = os.path.join(self.inbox, f".{name}.tmp")
        os.makedirs(os.path.join(staging, "parity"))
        src, digest = self.sources[size]
        sh("cp", "--reflink=never", src, os.path.join(staging, "model.pt"))
        files = {"model.pt": (size, digest)}
        for rel, data in SMALL.items():
            with open(os.path.join(staging, rel), "wb") as f:
                f.write(data)
            files[rel] = (len(data), hashlib.sha256(data).hexdigest())
        with open(os.path.join(staging, "bundle.toml"), "w") as f:
            f.write(manifest(f"1.{self.n}", files))
        os.sync()
        return name, staging

    def agent_ms(self, size):
        name, staging = self.stage(size)
        t0 = time.perf_counter()
        os.rename(staging, os.path.join(self.inbox, name))
        rec = self.wait(lambda r: r.get("inbox_name") == name and r["event"] in ("promoted", "rejected"))
        ms = (time.perf_counter() - t0) * 1000
        if rec["event"] != "promoted":
            raise RuntimeError(f"{self.kind}: {name} was {rec['event']}: {rec.get('message')}")
        self.method = rec.get("intake_copy")
        os.sync()
        return ms

    def cp_ms(self, size):
        _, staging = self.stage(size)
        t0 = time.perf_counter()
        sh("cp", "-r", staging, staging + ".copy")
        ms = (time.perf_counter() - t0) * 1000
        shutil.rmtree(staging)
        shutil.rmtree(staging + ".copy")
        return ms

    def openssl_ms(self, size):
        t0 = time.perf_counter()
        sh("openssl", "dgst", "-sha256", self.sources[size][0])
        return (time.perf_counter() - t0) * 1000

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        subprocess.run(["umount", self.mnt])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes-mib", default="256,1024")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (images unmounted)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("intake_bench.py: needs root (loop mounts)")
    sizes = [int(s) << 20 for s in args.sizes_mib.split(",")]
    work = tempfile.mkdtemp(prefix="bundlegate-intake-bench-")
    fss = []
    try:
        image = 4 * sum(sizes) + (2 << 30)  # sparse: sources, serving, a staged bundle, a copy
        fss = [Fs(work, "xfs-reflink", image), Fs(work, "ext4", image)]
        for size in sizes:
            data = os.path.join(work, f"data-{size}.bin")
            h = hashlib.sha256()
            with open("/dev/urandom", "rb") as rnd, open(data, "wb") as out:
                left = size
                while left:
                    chunk = rnd.read(min(left, 1 << 22))
                    h.update(chunk)
                    out.write(chunk)
                    left -= len(chunk)
            for fs in fss:
                fs.add_source(size, data, h.hexdigest())
            os.unlink(data)
        times = {}
        for round_no in range(args.runs + 1):  # the first round warms up
            for size in sizes:
                for fs in fss:
                    for what in ("agent", "cp", "openssl"):
                        ms = getattr(fs, f"{what}_ms")(size)
                        if round_no:
                            times.setdefault((size, fs.kind, what), []).append(ms)
        print(f"copy intake, median of {args.runs} alternating rounds (ms; ratio to openssl dgst "
              f"on the same file and filesystem):")
        for size in sizes:
            for fs in fss:
                base = statistics.median(times[(size, fs.kind, "openssl")])
                row = []
                for what in ("agent", "cp", "openssl"):
                    m = statistics.median(times[(size, fs.kind, what)])
                    row.append(f"{what} {m:8.0f} ({m / base:4.2f}x)")
                print(f"  {size >> 20:6d} MiB {fs.kind:12s} " + "  ".join(row) +
                      f"  agent's copy: {json.dumps(fs.method)}")
        print("reproduce: sudo scripts/bench/intake_bench.py --sizes-mib "
              f"{args.sizes_mib} --runs {args.runs}")
    finally:
        for fs in fss:
            fs.close()
        if args.keep:
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Provenance from a real git repository, and the command line."""

import os
import subprocess
import sys
import unittest
from pathlib import Path

import torch

import bundlegate_pack
from pack_test_util import PackTestCase, TwoHeads, cases

SCRIPT = Path(bundlegate_pack.__file__).resolve()
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.com", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_SYSTEM="/dev/null")


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout.strip()


class GitProvenanceTest(PackTestCase):
    def setUp(self):
        super().setUp()
        git(self.tmp, "init", "-q", "-b", "release")
        git(self.tmp, "remote", "add", "origin", "git@example.com:acme/model.git")
        git(self.tmp, "add", "requirements.lock", "conf/preprocess.toml")
        git(self.tmp, "commit", "-q", "-m", "training code")
        self.head = git(self.tmp, "rev-parse", "HEAD")

    def pack_from_git(self, out):
        return bundlegate_pack.pack(TwoHeads(), cases(), out, name="m", version="1", lockfile=self.lock,
                                    preprocessing_spec=self.spec, preprocessing_version="v2", repo_dir=self.tmp)

    def test_commit_branch_remote_and_repo_paths_come_from_git(self):
        source = self.manifest(self.pack_from_git(self.tmp / "out" / "b1"))["source"]
        self.assertEqual(source, {"repo": "git@example.com:acme/model.git", "commit": self.head, "dirty": False,
                                  "branch": "release", "lockfile_path": "requirements.lock",
                                  "preprocessing_path": "conf/preprocess.toml"})

    def test_uncommitted_changes_to_tracked_files_are_dirty(self):
        (self.tmp / "untracked.txt").write_text("not part of the commit")
        self.assertFalse(self.manifest(self.pack_from_git(self.tmp / "out" / "b2"))["source"]["dirty"])
        self.spec.write_text('version = "v3"\n')
        self.assertTrue(self.manifest(self.pack_from_git(self.tmp / "out" / "b3"))["source"]["dirty"])

    def test_a_detached_head_has_no_branch_and_explicit_values_win(self):
        git(self.tmp, "checkout", "-q", "--detach")
        b = bundlegate_pack.pack(TwoHeads(), cases(), self.tmp / "out" / "b4", name="m", version="1",
                                 lockfile=self.lock, preprocessing_spec=self.spec, preprocessing_version="v2",
                                 repo_dir=self.tmp, lockfile_path="locks/prod.lock")
        source = self.manifest(b)["source"]
        self.assertEqual(source["branch"], "")
        self.assertEqual(source["lockfile_path"], "locks/prod.lock")

    def test_files_outside_the_repository_need_explicit_paths(self):
        outside = self.tmp.parent / (self.tmp.name + "-outside.lock")
        outside.write_text("x==1\n")
        self.addCleanup(outside.unlink)
        with self.assertRaisesRegex(bundlegate_pack.PackError, "outside the repository"):
            bundlegate_pack.pack(TwoHeads(), cases(), self.tmp / "out" / "b5", name="m", version="1",
                                 lockfile=outside, preprocessing_spec=self.spec, preprocessing_version="v2",
                                 repo_dir=self.tmp)

    def test_not_a_repository_without_explicit_provenance_is_refused(self):
        with self.assertRaisesRegex(bundlegate_pack.PackError, "not in a git repository"):
            bundlegate_pack.pack(TwoHeads(), cases(), self.tmp / "out" / "b6", name="m", version="1",
                                 lockfile=self.lock, preprocessing_spec=self.spec, preprocessing_version="v2",
                                 repo_dir="/")


class CommandLineTest(PackTestCase):
    def run_cli(self, *args):
        # The test models' module must be importable by the CLI (a pickled module names its class).
        here = str(Path(__file__).resolve().parent)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
        return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, env=env)

    def test_the_cli_packs_a_torchscript_file_with_torch_saved_inputs(self):
        torch.jit.save(torch.jit.script(TwoHeads().eval()), str(self.tmp / "model.pt"))
        torch.save(cases(), str(self.tmp / "inputs.pt"))
        out = self.tmp / "inbox" / "m-1"
        r = self.run_cli("--model", str(self.tmp / "model.pt"), "--inputs", str(self.tmp / "inputs.pt"),
                         "--lockfile", str(self.lock), "--preprocessing-spec", str(self.spec),
                         "--preprocessing-version", "v2", "--name", "m", "--version", "1",
                         "--commit", "ab" * 20, "--no-dirty", "--lockfile-path", "requirements.lock",
                         "--preprocessing-path", "conf/preprocess.toml", "--threads", "1",
                         "--tolerance", "logits=0.001,0.0001", "--file", f"docs/README={self.lock}",
                         "--out", str(out))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), str(out))
        m = self.manifest(out)
        self.assertEqual(m["source"]["commit"], "ab" * 20)
        self.assertEqual(m["inference"], {"threads": 1})
        self.assertEqual(m["parity"]["tolerance"]["logits"], {"rtol": 0.001, "atol": 0.0001})
        self.assertIn("docs/README", [f["path"] for f in m["files"]])

    def test_the_cli_reads_safetensors_inputs_and_a_whole_pickled_module(self):
        torch.save(TwoHeads(), str(self.tmp / "module.pt"))
        bundlegate_pack.write_safetensors(self.tmp / "in.safetensors", {"x.0": torch.randn(2, 4)})
        out = self.tmp / "m-2"
        r = self.run_cli("--model", str(self.tmp / "module.pt"), "--inputs", str(self.tmp / "in.safetensors"),
                         "--lockfile", str(self.lock), "--preprocessing-spec", str(self.spec),
                         "--preprocessing-version", "v2", "--name", "m", "--version", "2",
                         "--commit", "cd" * 20, "--dirty", "--lockfile-path", "l", "--preprocessing-path", "p",
                         "--out", str(out))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(self.manifest(out)["source"]["dirty"])

    def test_errors_exit_1_with_a_message_and_usage_errors_exit_2(self):
        r = self.run_cli("--model", str(self.tmp / "missing.pt"), "--inputs", "x", "--lockfile", str(self.lock),
                         "--preprocessing-spec", str(self.spec), "--preprocessing-version", "v2",
                         "--name", "m", "--version", "1", "--commit", "ab" * 20, "--out", str(self.tmp / "o"))
        self.assertEqual(r.returncode, 1)
        self.assertIn("bundlegate_pack:", r.stderr)
        self.assertEqual(self.run_cli("--name", "m").returncode, 2)


if __name__ == "__main__":
    unittest.main()

"""Runs bundlegate-check-torchscript on a bundle the way the agent does, from Python.

The device checks (scripts/device-check) run where only PyTorch, CMake and a compiler are
installed: not the agent, its libraries or its test suite. This module is the agent's side of
the plugin protocol (SPEC.md "Plugins") in a few lines: the request is built from bundle.toml
as the agent's Manifest::ToJson builds it, the plugin runs as a child process with a timeout
(and, optionally, an address-space limit), and its one JSON result is parsed.

    run_plugin(plugin, bundle_dir, config={...}, timeout_s=300) -> PluginRun
"""

import json
import resource
import signal
import subprocess
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class PluginRun:
    result: dict = field(default_factory=dict)  # the plugin's result; {} when none was printed
    returncode: int = 0                          # negative: killed by that signal
    timed_out: bool = False
    wall_s: float = 0.0
    stderr_tail: str = ""

    @property
    def verdict(self):
        """'pass', 'fail:<reason>', 'error:<reason>', 'crash (SIGFPE)', 'hang', 'no result'."""
        if self.timed_out:
            return "hang"
        if self.returncode < 0:
            return f"crash ({signal.Signals(-self.returncode).name})"
        if not self.result:
            return "no result"
        status = self.result.get("status")
        return "pass" if status == "pass" else f"{status}:{self.result.get('reason', '')}"


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return value


def manifest_json(bundle_dir):
    """bundle.toml as the agent sends it in a request (agent/manifest/manifest.cpp ToJson)."""
    with open(Path(bundle_dir) / "bundle.toml", "rb") as f:
        m = _jsonable(tomllib.load(f))
    m.setdefault("model", {}).setdefault("signature", [])
    m.setdefault("parity", {}).setdefault("tolerance", {})
    return m


def request_json(bundle_dir, config=None):
    return {"protocol": 1, "bundle_dir": str(Path(bundle_dir).resolve()),
            "manifest": manifest_json(bundle_dir), "config": config or {}}


def run_plugin(plugin, bundle_dir, config=None, timeout_s=300, memory_bytes=0, env=None):
    request = json.dumps(request_json(bundle_dir, config))

    def limits():
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    start = time.monotonic()
    proc = subprocess.Popen([str(plugin)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=limits, env=env,
                            start_new_session=True)
    run = PluginRun()
    try:
        out, err = proc.communicate(request.encode(), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        import os
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        run.timed_out = True
    run.wall_s = time.monotonic() - start
    run.returncode = proc.returncode
    run.stderr_tail = err.decode(errors="replace")[-2000:]
    text = out.decode(errors="replace").strip()
    if text and not run.timed_out:
        try:
            run.result = json.loads(text)
        except json.JSONDecodeError:
            run.result = {}
    return run


def describe(plugin):
    out = subprocess.run([str(plugin), "--describe"], capture_output=True, timeout=120, check=True)
    return json.loads(out.stdout)

#!/usr/bin/env python3
"""The HTTP endpoint's cost: scrape latency, and the agent's CPU while Prometheus scrapes it.

    scripts/bench/metrics_bench.py [--models 20] [--versions 15] [--rejects 50]
                                   [--scrapes 1000] [--seconds 60]

Runs the real `bundlegate run` on a fresh root (keep_versions = 0) and fills it through the
inbox: --models x --versions promoted bundles (a few hundred served versions) and --rejects
rejected ones, so that every family has its series. Then:
  - latency: --scrapes GETs of /metrics over one keep-alive connection, in the Prometheus text
    format and in OpenMetrics (as Prometheus asks); median and p99, and the body size;
  - CPU: the agent's CPU time (utime + stime from /proc) over --seconds with nothing to do and
    no scraper, then over --seconds with a real Prometheus (Debian's) scraping it every second;
    both as a share of one core, and their difference per scrape.
Prometheus listens on 127.0.0.1 and scrapes only the agent. Standard library only; needs the
built binary (scripts/build) and the prometheus package (scripts/bootstrap).
"""
import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from agent_bench import write_bundle  # noqa: E402

BIN = os.environ.get("BUNDLEGATE_BIN", os.path.join(HERE, "..", "..", "build", "bin", "bundlegate"))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_for(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    sys.exit(f"timed out waiting for {what}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=20)
    ap.add_argument("--versions", type=int, default=15)
    ap.add_argument("--rejects", type=int, default=50)
    ap.add_argument("--scrapes", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=60)
    args = ap.parse_args()
    prometheus_bin = shutil.which("prometheus")
    if not prometheus_bin:
        sys.exit("no prometheus binary: run scripts/bootstrap")

    work = tempfile.mkdtemp(prefix="bg-metrics-bench-")
    config = os.path.join(work, "bg.toml")
    with open(config, "w") as f:
        f.write('require_parity = false\nworkers = 2\n[paths]\nroot = "root"\n'
                "[watch]\nsettle_ms = 100\n[serving]\nkeep_versions = 0\n"
                '[http]\nlisten = "127.0.0.1:0"\n')
    log_path = os.path.join(work, "agent.log")
    agent = subprocess.Popen([BIN, "run", "--config", config], stderr=open(log_path, "w"))
    procs = [agent]
    try:
        address = wait_for(lambda: (re.findall(r"status on (\S+)", open(log_path).read()) or [None])[0],
                           60, "the agent's HTTP address")
        host, port = address.rsplit(":", 1)
        inbox = os.path.join(work, "root", "inbox")
        audit = os.path.join(work, "root", "audit.jsonl")
        wait_for(lambda: os.path.isdir(inbox), 60, "the inbox")
        total = 0
        for m in range(args.models):
            for v in range(args.versions):
                stage = os.path.join(inbox, f".m{m}v{v}.tmp")
                write_bundle(stage, f"model-{m:03d}", f"1.{v}.0")
                os.rename(stage, os.path.join(inbox, f"m{m}v{v}"))
                total += 1
        for r in range(args.rejects):
            stage = os.path.join(inbox, f".bad{r}.tmp")
            write_bundle(stage, "rejected-model", f"9.{r}.0")
            with open(os.path.join(stage, "stowaway"), "w") as f:
                f.write("unlisted")
            os.rename(stage, os.path.join(inbox, f"bad{r}"))
            total += 1

        def decided():
            with open(audit) as f:
                n = sum(1 for line in f if '"event":"promoted"' in line or '"event":"rejected"' in line)
            return n >= total
        wait_for(decided, 1800, f"{total} decisions")

        conn = http.client.HTTPConnection(host, int(port), timeout=30)

        def scrape(accept):
            conn.request("GET", "/metrics", headers={"Accept": accept})
            resp = conn.getresponse()
            return resp.status, resp.read()

        served = args.models * args.versions
        wait_for(lambda: f'bundlegate_served_models {args.models}\n'.encode() in scrape("text/plain")[1],
                 120, "serving/ listed")
        print(f"root: {served} served versions of {args.models} models, {args.rejects} rejected, "
              f"{total} decisions")
        formats = [("text 0.0.4", "text/plain;version=0.0.4"),
                   ("OpenMetrics", "application/openmetrics-text;version=1.0.0,"
                                   "text/plain;version=0.0.4;q=0.5")]
        for name, accept in formats:
            times = []
            size = 0
            for _ in range(args.scrapes):
                t0 = time.perf_counter()
                status, body = scrape(accept)
                times.append(time.perf_counter() - t0)
                assert status == 200, status
                size = len(body)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(f"scrape {name:12s}: median {statistics.median(times) * 1e3:.2f} ms, "
                  f"p99 {p99 * 1e3:.2f} ms over {args.scrapes} scrapes, {size} bytes")
        conn.close()

        c0 = cpu_seconds(agent.pid)
        time.sleep(args.seconds)
        idle = cpu_seconds(agent.pid) - c0

        prom_port = free_port()
        prom_config = os.path.join(work, "prometheus.yml")
        with open(prom_config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    f"scrape_configs:\n  - job_name: bundlegate\n    static_configs:\n"
                    f"      - targets: ['{address}']\n")
        prom = subprocess.Popen([prometheus_bin, f"--config.file={prom_config}",
                                 f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
                                 f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "prom.log"), "w"))
        procs.append(prom)

        def scraped_once():
            try:
                c = http.client.HTTPConnection("127.0.0.1", prom_port, timeout=5)
                c.request("GET", "/api/v1/query?query=up")
                return b'"value"' in c.getresponse().read()
            except OSError:
                return False
        wait_for(scraped_once, 120, "Prometheus' first scrape")
        c0 = cpu_seconds(agent.pid)
        time.sleep(args.seconds)
        busy = cpu_seconds(agent.pid) - c0
        print(f"agent CPU, {args.seconds} s idle, no scraper:        {idle:.3f} s "
              f"({100 * idle / args.seconds:.3f}% of a core)")
        print(f"agent CPU, {args.seconds} s, Prometheus every 1 s:   {busy:.3f} s "
              f"({100 * busy / args.seconds:.3f}% of a core); "
              f"{1e3 * (busy - idle) / args.seconds:.2f} ms per scrape over idle")
        print("reproduce: scripts/bench/metrics_bench.py " + " ".join(sys.argv[1:]))
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

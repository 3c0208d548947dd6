#!/usr/bin/env python3
"""Every Grafana panel's query returns data from a real Prometheus that has
scraped a workload under the preload.

The workload runs under `parklock run --metrics`: lock_storm (contended
queue, condvars and a shared table) for the lock panels. The engine panels
(parklock_engine_*) and the named-lock panel need the bundled engine's
HTTP server under load; until that workload is wired in here they are
reported as not checked, and the test exits 77 (CTest: skipped) rather
than pass on part of the dashboard.

Environment: PARKLOCK (the launcher), LOCK_STORM.
Exit status: 0 every query returned data; 1 some returned none; 77 some
could not be checked (what they need is printed)."""
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard  # noqa: E402
from prometheus_harness import PrometheusServer, free_port  # noqa: E402

SKIP = 77
PARKLOCK = os.environ["PARKLOCK"]
LOCK_STORM = os.environ["LOCK_STORM"]

# What each family of queries needs beyond lock_storm under the preload.
NEEDS = [
    ("parklock_engine_", "the engine's HTTP server under load (parklock-engine serve, parklock-loadgen)"),
    ("parklock_lock_acquisitions_total", "a workload with named locks (the engine names its locks)"),
]


def wait_for_endpoint(url, timeout=20):
    """The preload's metrics text, once its endpoint answers; None if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                text = response.read().decode()
                if "parklock_" in text:
                    return text
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    return None


def main():
    port = free_port()
    # Long enough to outlast the scrapes; it is stopped by its PID below.
    workload = subprocess.Popen(
        [PARKLOCK, "run", "--metrics", f"127.0.0.1:{port}", "--",
         LOCK_STORM, "--producers=2", "--workers=4", "--jobs=200000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        if wait_for_endpoint(f"http://127.0.0.1:{port}/metrics") is None:
            print(f"SKIP: the preload serves no metrics at PARKLOCK_METRICS=127.0.0.1:{port} "
                  "(the exporter is not part of this build)")
            return SKIP
        targets = [{"job": "parklock", "targets": [f"127.0.0.1:{port}"], "labels": {"service": "dashboard-test"}}]
        with PrometheusServer(targets) as prometheus:
            prometheus.wait_for_scrapes(5)
            failures, unchecked, checked = [], [], 0
            for title, ref, expr in dashboard.queries(dashboard.load()):
                need = next((why for marker, why in NEEDS if marker in expr), None)
                if need:
                    unchecked.append(f"{title} [{ref}]: needs {need}")
                    continue
                checked += 1
                if not prometheus.query(expr):
                    failures.append(f"{title} [{ref}]: no data for {expr}")
    finally:
        workload.terminate()
        try:
            workload.wait(timeout=30)
        except subprocess.TimeoutExpired:
            workload.kill()
            workload.wait()
    print(f"{checked} queries checked, {len(failures)} without data, {len(unchecked)} not checked")
    for line in failures:
        print("FAIL: " + line)
    for line in unchecked:
        print("NOT CHECKED: " + line)
    if failures:
        return 1
    return SKIP if unchecked else 0


if __name__ == "__main__":
    sys.exit(main())

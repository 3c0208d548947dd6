#!/usr/bin/env python3
"""Every Grafana panel's query returns data from a real Prometheus that has
scraped a workload under the preload.

The workload is the bundled engine's HTTP server under `parklock run
--metrics`, driven by parklock-loadgen while Prometheus scrapes both its
endpoints (the engine's /metrics and the preload's), beside lock_storm under
the preload as a second instance of the service: the tiny engine's waits are
mostly resolved by spinning, so whether it parks at all (which the holder
panels need: a holder is charged by the unlock that wakes a parked waiter)
depends on how busy the machine is; lock_storm's producers and workers park
for certain. Where the engine server
or the load generator is not built, lock_storm runs instead: the lock panels
are checked, and the engine and named-lock panels are reported as not
checked, with exit status 77 (CTest: skipped) rather than a pass on part
of the dashboard.

Environment: PARKLOCK (the launcher), LOCK_STORM; ENGINE and LOADGEN
(parklock-engine and parklock-loadgen) when built.
Exit status: 0 every query returned data; 1 some returned none; 77 some
could not be checked (what they need is printed)."""
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard  # noqa: E402
from prometheus_harness import PrometheusServer, free_port  # noqa: E402

SKIP = 77
PARKLOCK = os.environ["PARKLOCK"]
LOCK_STORM = os.environ["LOCK_STORM"]
ENGINE = os.environ.get("ENGINE", "")
LOADGEN = os.environ.get("LOADGEN", "")
SERVICE = "dashboard-test"

# What a query needs beyond lock_storm under the preload.
ENGINE_ONLY = [
    ("parklock_engine_", "the engine's HTTP server under load (parklock-engine serve, parklock-loadgen)"),
    ("parklock_lock_acquisitions_total", "a workload with named locks (the engine names its locks)"),
]


def fetch(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for_endpoint(url, timeout=20):
    """True once the preload's endpoint serves parklock_ metrics."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = fetch(url)
        if text and "parklock_" in text:
            return True
        time.sleep(0.2)
    return False


@contextlib.contextmanager
def stopped_at_exit(process):
    """Stops the process by its PID (SIGTERM, SIGKILL after 30 s) on the way out."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def engine_available():
    return bool(ENGINE and LOADGEN and os.path.exists(ENGINE) and os.path.exists(LOADGEN) and
                subprocess.run([ENGINE, "serve", "--help"], capture_output=True, timeout=60).returncode == 0)


def wait_for_listening_line(process, timeout=120):
    """The URL of the engine's 'listening on URL' line, read from its stdout."""
    found = {}

    def read():
        for line in process.stdout:
            match = re.search(r"listening on (\S+)", line)
            if match:
                found["url"] = match.group(1)
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found.get("url")


def check_queries(prometheus, skip_markers):
    pending, unchecked, checked = [], [], 0
    for title, ref, expr in dashboard.queries(dashboard.load()):
        need = next((why for marker, why in skip_markers if marker in expr), None)
        if need:
            unchecked.append(f"{title} [{ref}]: needs {need}")
            continue
        checked += 1
        pending.append((title, ref, expr))
    # A sparse series (a holder's charge, a rare wait) may need more scrapes
    # of the running load on a busy machine: each query is asked again until
    # it has data or the time is up.
    deadline = time.monotonic() + 60
    while pending:
        pending = [(title, ref, expr) for title, ref, expr in pending if not prometheus.query(expr)]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(2)
    failures = [f"{title} [{ref}]: no data for {expr}" for title, ref, expr in pending]
    return failures, unchecked, checked


def start_lock_storm(metrics_port):
    # Long enough to outlast the scrapes; stopped by its PID after the queries.
    return subprocess.Popen(
        [PARKLOCK, "run", "--metrics", f"127.0.0.1:{metrics_port}", "--",
         LOCK_STORM, "--producers=2", "--workers=4", "--jobs=2000000000"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_with_engine(metrics_port, work_dir):
    storm_port = free_port()
    storm = start_lock_storm(storm_port)
    server = subprocess.Popen(
        [PARKLOCK, "run", "--metrics", f"127.0.0.1:{metrics_port}", "--",
         ENGINE, "serve", "--config", "tiny", "--port", "0", "--gemm-threads", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    with stopped_at_exit(storm), stopped_at_exit(server):
        url = wait_for_listening_line(server)
        if url is None:
            raise SystemExit("FAIL: parklock-engine serve never printed 'listening on URL'")
        for port in (metrics_port, storm_port):
            if not wait_for_endpoint(f"http://127.0.0.1:{port}/metrics"):
                raise SystemExit(f"FAIL: no preload metrics at 127.0.0.1:{port} under parklock run --metrics")
        targets = [
            {"job": "parklock", "targets": [f"127.0.0.1:{metrics_port}", f"127.0.0.1:{storm_port}"],
             "labels": {"service": SERVICE}},
            {"job": "parklock-engine", "targets": [url.split("://", 1)[1]], "labels": {"service": SERVICE}},
        ]
        # Bounded in time and count; stopped once the queries have run.
        load = subprocess.Popen(
            [LOADGEN, "--url", url, "--model", "tiny", "--clients", "8", "--requests", "100000",
             "--duration-s", "120", "--prompt-len", "16", "--max-tokens", "16",
             "--json", os.path.join(work_dir, "load.json")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with stopped_at_exit(load), PrometheusServer(targets) as prometheus:
            prometheus.wait_for_scrapes(5)
            return check_queries(prometheus, [])


def run_with_lock_storm(metrics_port):
    workload = start_lock_storm(metrics_port)
    with stopped_at_exit(workload):
        if not wait_for_endpoint(f"http://127.0.0.1:{metrics_port}/metrics"):
            raise SystemExit(f"FAIL: no preload metrics at 127.0.0.1:{metrics_port} under parklock run --metrics")
        targets = [{"job": "parklock", "targets": [f"127.0.0.1:{metrics_port}"], "labels": {"service": SERVICE}}]
        with PrometheusServer(targets) as prometheus:
            prometheus.wait_for_scrapes(5)
            return check_queries(prometheus, ENGINE_ONLY)


def main():
    port = free_port()
    with tempfile.TemporaryDirectory() as work_dir:
        if engine_available():
            print("workload: parklock-engine serve --config tiny under parklock run --metrics, parklock-loadgen")
            failures, unchecked, checked = run_with_engine(port, work_dir)
        else:
            print("workload: lock_storm under parklock run --metrics (parklock-engine serve or parklock-loadgen not built)")
            failures, unchecked, checked = run_with_lock_storm(port)
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

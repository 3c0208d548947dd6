"""A real Prometheus server for tests: Debian's `prometheus` on 127.0.0.1
with a free port, a private temporary data directory, and a generated
scrape config (1 s interval by default); stopped by its PID.

    from prometheus_harness import PrometheusServer

    with PrometheusServer(["127.0.0.1:9464"]) as prometheus:
        prometheus.wait_for_scrapes(3)
        for series in prometheus.query('topk(5, rate(parklock_lock_wait_seconds_sum[1m]))'):
            print(series["metric"], series["value"])

A target is "host:port" (job "target<i>", path /metrics) or a dict
{"job": ..., "targets": ["host:port", ...], "metrics_path": ..., "labels": {...}}.
Python 3 standard library only."""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


class PrometheusError(RuntimeError):
    """Prometheus failed to start, or a query failed (bad PromQL, timeout)."""


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape_configs(targets):
    configs = []
    for i, target in enumerate(targets):
        if isinstance(target, str):
            target = {"job": f"target{i}", "targets": [target]}
        configs.append({
            "job_name": target["job"],
            "metrics_path": target.get("metrics_path", "/metrics"),
            "static_configs": [{"targets": list(target["targets"]), "labels": dict(target.get("labels", {}))}],
        })
    return configs


class PrometheusServer:
    def __init__(self, targets, scrape_interval="1s", rule_files=(), binary="prometheus", start_timeout=90):
        self.targets = list(targets)
        self.scrape_interval = scrape_interval
        self.rule_files = [os.path.abspath(f) for f in rule_files]
        self.binary = binary
        self.start_timeout = start_timeout
        self.process = None
        self.dir = None
        self.url = None

    # -- lifetime ----------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_):
        self.stop()

    def start(self):
        if shutil.which(self.binary) is None:
            raise PrometheusError(f"{self.binary} is not installed (Debian: apt-get install prometheus)")
        self.dir = tempfile.mkdtemp(prefix="prometheus-harness.")
        config = {
            "global": {"scrape_interval": self.scrape_interval, "scrape_timeout": self.scrape_interval,
                       "evaluation_interval": self.scrape_interval},
            "rule_files": self.rule_files,
            "scrape_configs": _scrape_configs(self.targets),
        }
        config_path = os.path.join(self.dir, "prometheus.yml")
        with open(config_path, "w") as f:
            json.dump(config, f, indent=2)  # JSON is YAML
        # A port taken between free_port() and Prometheus' bind: try another.
        for _ in range(3):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            self.log_path = os.path.join(self.dir, "prometheus.log")
            with open(self.log_path, "w") as log:
                self.process = subprocess.Popen(
                    [self.binary, f"--config.file={config_path}",
                     f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
                     f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=1h",
                     "--log.level=warn"],
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_until_ready():
                return
            self._kill()
        log = self.log_tail()
        self.stop()
        raise PrometheusError(f"Prometheus did not become ready; its log ends:\n{log}")

    def _wait_until_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        return False

    def _kill(self):
        """SIGTERM by PID, SIGKILL after 10 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self):
        self._kill()
        self.process = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log_tail(self, lines=30):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, AttributeError):
            return ""

    # -- HTTP API ----------------------------------------------------------

    def _api(self, path, params):
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.load(error)
        if body.get("status") != "success":
            raise PrometheusError(f"{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr, at=None):
        """An instant query: the result list (for a vector, one dict per
        series with "metric" and "value": [time, "value"])."""
        params = {"query": expr}
        if at is not None:
            params["time"] = at
        return self._api("query", params)["result"]

    def active_targets(self):
        """The targets as Prometheus sees them: scrapeUrl, health, lastError, ..."""
        return self._api("targets", {"state": "active"})["activeTargets"]

    def wait_for_scrapes(self, count, timeout=120):
        """Waits until every target has been scraped successfully `count`
        times. Raises PrometheusError naming the targets that were not."""
        wanted = sum(len(t["static_configs"][0]["targets"]) for t in _scrape_configs(self.targets))
        deadline = time.monotonic() + timeout
        while True:
            done = self.query(f"sum_over_time(up[1h]) >= {count}")
            if len(done) >= wanted:
                return
            if time.monotonic() >= deadline:
                states = [f"{t['scrapeUrl']}: {t['health']} {t['lastError']}" for t in self.active_targets()]
                raise PrometheusError(f"not every target was scraped {count} times in {timeout} s:\n  " +
                                      "\n  ".join(states))
            time.sleep(0.5)

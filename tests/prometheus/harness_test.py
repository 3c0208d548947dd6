#!/usr/bin/env python3
"""The Prometheus harness against a real Prometheus and a real target: a
small exposition endpoint that counts its own scrapes."""
import http.server
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prometheus_harness import PrometheusError, PrometheusServer  # noqa: E402


class CountingTarget:
    """Serves harness_scrapes_total, one more on each scrape, on 127.0.0.1."""

    def __init__(self):
        self.scrapes = 0
        target = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                target.scrapes += 1
                body = (f"# TYPE harness_scrapes_total counter\n"
                        f"harness_scrapes_total {target.scrapes}\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class HarnessTest(unittest.TestCase):
    def test_scrapes_queries_and_stops(self):
        target = CountingTarget()
        try:
            with PrometheusServer([{"job": "counting", "targets": [target.address],
                                    "labels": {"service": "harness"}}]) as prometheus:
                prometheus.wait_for_scrapes(3)
                self.assertGreaterEqual(target.scrapes, 3)
                result = prometheus.query('harness_scrapes_total{job="counting",service="harness"}')
                self.assertEqual(len(result), 1)
                self.assertGreaterEqual(float(result[0]["value"][1]), 3)
                up = prometheus.query("up")
                self.assertEqual([s["metric"]["instance"] for s in up], [target.address])
                with self.assertRaises(PrometheusError):
                    prometheus.query("rate(harness_scrapes_total[")
                pid, data_dir = prometheus.process.pid, prometheus.dir
            self.assertFalse(os.path.exists(data_dir))
            self.assertFalse(os.path.exists(f"/proc/{pid}"))  # stopped and reaped
        finally:
            target.close()

    def test_a_target_that_is_down_is_named(self):
        with PrometheusServer(["127.0.0.1:1"]) as prometheus:
            with self.assertRaises(PrometheusError) as caught:
                prometheus.wait_for_scrapes(1, timeout=5)
            self.assertIn("127.0.0.1:1", str(caught.exception))


if __name__ == "__main__":
    unittest.main()

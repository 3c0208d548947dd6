#!/usr/bin/env python3
"""A load for stub_server.py: N GET /work requests from a few threads, then
a JSON summary in parklock-loadgen's shape to --json (or $PARKLOCK_AB_JSON)."""
import argparse
import concurrent.futures
import json
import os
import time
import urllib.request

parser = argparse.ArgumentParser()
parser.add_argument("--url", default=os.environ.get("PARKLOCK_AB_URL"))
parser.add_argument("--json", default=os.environ.get("PARKLOCK_AB_JSON"))
parser.add_argument("--requests", type=int, default=40)
args = parser.parse_args()


def get(_):
    start = time.monotonic()
    with urllib.request.urlopen(args.url + "/work", timeout=30) as response:
        response.read()
    return (time.monotonic() - start) * 1000


start = time.monotonic()
with concurrent.futures.ThreadPoolExecutor(4) as pool:
    latencies = sorted(pool.map(get, range(args.requests)))
duration = time.monotonic() - start
summary = {
    "requests_completed": len(latencies),
    "requests_failed": 0,
    "duration_s": duration,
    "requests_per_s": len(latencies) / duration,
    "e2e_ms": {
        "mean": sum(latencies) / len(latencies),
        "median": latencies[len(latencies) // 2],
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
    },
}
with open(args.json, "w") as out:
    json.dump(summary, out)
print(json.dumps(summary))

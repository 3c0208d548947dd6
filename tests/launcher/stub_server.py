#!/usr/bin/env python3
"""A small HTTP server for the A/B runner's tests: it listens on 127.0.0.1,
prints "listening on http://127.0.0.1:PORT" once it accepts, answers
GET /health and GET /work (a little work under a lock, from a thread per
request), and can misbehave on request (ignore SIGTERM, never get ready, die mid-load).
Its PID goes to --pid-dir, so a test can check that it was stopped."""
import argparse
import http.server
import os
import signal
import sys
import threading
import time

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, default=0)
parser.add_argument("--pid-dir")
parser.add_argument("--ignore-sigterm", action="store_true")
parser.add_argument("--never-ready", action="store_true")
parser.add_argument("--die-on-work", action="store_true", help="exit with status 5 on the first /work")
args = parser.parse_args()

if args.pid_dir:
    with open(os.path.join(args.pid_dir, str(os.getpid())), "w"):
        pass
if args.ignore_sigterm:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if args.never_ready:
    while True:
        time.sleep(1)

counter_lock = threading.Lock()
counter = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global counter
        if self.path == "/health":
            body = b"ok\n"
        elif self.path == "/work":
            if args.die_on_work:
                os._exit(5)
            with counter_lock:
                counter += 1
                body = str(counter).encode() + b"\n"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()

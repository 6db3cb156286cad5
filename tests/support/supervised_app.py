#!/usr/bin/env python3
"""An app for fairlead's supervisor tests: it says on stdout what happens to it, in order.

  GET /healthz    200, or 503 for the first --unhealthy-ms after start
  GET /slow?ms=N  answers after N ms; prints "app: /slow started", then "app: /slow done" just
                  before the answer leaves
  anything else   200 "ok"

Prints "app: listening", "app: got SIGTERM", "app: got SIGUSR1", "app: got SIGUSR2". On SIGTERM it
exits 0 (after --term-delay-ms), unless --ignore-term. --exit-after-ms N --exit-code C: exits by
itself. --orphans N: leaves N grandchildren behind (double fork) that exit after --orphan-ms, as a
daemonising entrypoint does; their parent is then whoever reaps orphans.
"""

import argparse
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def leave_orphan(lifetime_s):
    if os.fork() == 0:  # child: fork again and leave at once, so the grandchild is orphaned
        if os.fork() == 0:
            time.sleep(lifetime_s)
            os._exit(0)
        os._exit(0)
    os.wait()  # reap the middle child; the grandchild is no longer ours


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--unhealthy-ms", type=int, default=0)
    parser.add_argument("--ignore-term", action="store_true")
    parser.add_argument("--term-delay-ms", type=int, default=0)
    parser.add_argument("--exit-after-ms", type=int, default=0)
    parser.add_argument("--exit-code", type=int, default=0)
    parser.add_argument("--orphans", type=int, default=0)
    parser.add_argument("--orphan-ms", type=int, default=200)
    args = parser.parse_args()
    started = time.monotonic()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *unused):
            pass

        def do_GET(self):
            url = urlparse(self.path)
            status, body = 200, b"ok"
            if url.path == "/healthz" and (time.monotonic() - started) * 1000 < args.unhealthy_ms:
                status, body = 503, b"starting"
            elif url.path == "/slow":
                say("app: /slow started")
                time.sleep(int(parse_qs(url.query).get("ms", ["500"])[0]) / 1000)
                say("app: /slow done")
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def on_term(signum, frame):
        say("app: got SIGTERM")
        if args.ignore_term:
            return
        time.sleep(args.term_delay_ms / 1000)
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, lambda s, f: say("app: got SIGUSR1"))
    signal.signal(signal.SIGUSR2, lambda s, f: say("app: got SIGUSR2"))
    for _ in range(args.orphans):
        leave_orphan(args.orphan_ms / 1000)
    if args.exit_after_ms:
        threading.Timer(args.exit_after_ms / 1000, lambda: os._exit(args.exit_code)).start()
    say("app: listening")
    server.serve_forever()


if __name__ == "__main__":
    main()

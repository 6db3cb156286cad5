#!/usr/bin/env python3
"""A small HTTP/1.1 app that plays one endpoint in fairlead's resilience tests.

A real process, so that a test can kill it, restart it on the same port, or make it fail or hang,
the way an app does in production. Every response body is the app's --name, so a client can tell
which endpoint answered. It counts requests in progress and remembers the most it ever had at once
(GET /stats, as JSON), and the order of the X-Seq headers it was sent.

  GET /healthz            200 "ok"; 503 after /control/status/5xx; no answer after /control/hang
  GET /stats              {"name", "requests", "max_active", "seq"}
  GET /control/status/N   from now on answer other requests with status N
  GET /control/hang       from now on answer nothing else, health checks included
  anything else           sleep --delay-ms (or ?delay=MS; with --slow-percent, that share of requests
                          sleeps --slow-ms instead and the rest a random 0 to --delay-ms), then 200
                          (or the status set) with the name

An idle keep-alive connection is closed after --keepalive seconds, as uvicorn does. With
--lazy-close the app instead notices that only when the next request arrives, and then resets the
connection without answering: the keep-alive race as it happens when the app's FIN and the proxy's
request cross on a real network. On loopback the crossing otherwise lasts microseconds, too rarely
to test what a proxy does about it.
"""

import argparse
import json
import random
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1", help="any 127.x.y.z: several apps on one port")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", default="app")
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--keepalive", type=float, default=5.0, help="idle seconds before closing a connection")
    parser.add_argument("--lazy-close", action="store_true")
    parser.add_argument("--slow-percent", type=float, default=0)
    parser.add_argument("--slow-ms", type=int, default=2000)
    args = parser.parse_args()

    lock = threading.Lock()
    state = {"active": 0, "max_active": 0, "requests": 0, "seq": [], "status": 200, "hang": False}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def log_message(self, *unused):
            pass

        def handle(self):
            self.close_connection = True
            self.handle_one_request()
            while not self.close_connection:
                idle_since = time.monotonic()
                ready, _, _ = select.select([self.connection], [], [], None if args.lazy_close else args.keepalive)
                if not ready:
                    return  # idle too long: closed (FIN)
                if args.lazy_close and time.monotonic() - idle_since > args.keepalive:
                    linger = struct.pack("ii", 1, 0)
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                    return  # closed with the request unread: RST
                self.handle_one_request()

        def answer(self, status, body, content_type="text/plain"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urlparse(self.path)
            if url.path == "/healthz":
                with lock:
                    healthy = state["status"] < 500
                    hang = state["hang"]
                if hang:
                    time.sleep(600)
                self.answer(200 if healthy else 503, "ok" if healthy else "unhealthy")
                return
            if url.path == "/stats":
                with lock:
                    stats = {k: state[k] for k in ("requests", "max_active", "seq")}
                stats["name"] = args.name
                self.answer(200, json.dumps(stats), "application/json")
                return
            if url.path.startswith("/control/"):
                with lock:
                    if url.path == "/control/hang":
                        state["hang"] = True
                    elif url.path.startswith("/control/status/"):
                        state["status"] = int(url.path.rsplit("/", 1)[1])
                self.answer(200, "ok")
                return
            with lock:
                state["requests"] += 1
                state["active"] += 1
                state["max_active"] = max(state["max_active"], state["active"])
                seq = self.headers.get("X-Seq")
                if seq is not None:
                    state["seq"].append(int(seq))
                hang, status = state["hang"], state["status"]
            delay = int(parse_qs(url.query).get("delay", [args.delay_ms])[0])
            if args.slow_percent > 0:
                slow = random.random() * 100 < args.slow_percent
                delay = args.slow_ms if slow else random.randint(0, args.delay_ms)
            time.sleep(600 if hang else delay / 1000)
            # Done with the work before the answer leaves: the moment the client (fairlead) learns
            # of it, the request no longer counts as in progress.
            with lock:
                state["active"] -= 1
            self.answer(status, args.name)

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True  # restarted on the same port at once
        daemon_threads = True
        request_queue_size = 256

    server = Server((args.host, args.port), Handler)
    print(f"listening on {args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The slow endpoint of bench scenario 9, and the app of scenario 6: answers like the origin
("hello world\\n", 12 bytes) after --delay-ms (or ?ms=N), over HTTP/1.1 keep-alive, one thread per
connection. With --keepalive S an idle connection is closed after S seconds, as uvicorn does (5 s).
GET /__count answers how many requests it has served, so the bench can tell what share of the
load each proxy sent here."""
import argparse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, default=20)
    ap.add_argument("--keepalive", type=float, default=None, help="close idle connections after this many seconds")
    a = ap.parse_args()
    lock = threading.Lock()
    served = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall
        timeout = a.keepalive  # waiting for the next request longer than this ends the connection

        def log_message(self, *unused):
            pass

        def do_GET(self):
            if self.path == "/__count":
                with lock:
                    body = str(served[0]).encode()
            else:
                ms = self.path.partition("?ms=")[2]
                time.sleep((float(ms) if ms else a.delay_ms) / 1000)
                with lock:
                    served[0] += 1
                body = b"hello world\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(ThreadingHTTPServer):
        allow_reuse_address = True
        daemon_threads = True
        request_queue_size = 1024

    Server(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()

"""Constants and small helpers every part of the bench suite shares: ports, targets, labels, logging."""
import os
import sys
import time


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/suite/ -> the repository
LIB = os.path.join(ROOT, "bench", "lib")
PY = "/usr/bin/python3"
CLK_TCK = os.sysconf("SC_CLK_TCK")
MiB = 1048576

# Fixed, unusual ports on 127.0.0.1.
PORT_ORIGIN = 19180          # origin: 12-byte answer, /1m (1 MiB file), /upload (1 MiB POST)
PORT_ORIGIN_5S = 19181       # the same origin with a 5 s keep-alive timeout (like uvicorn)
PORT_ORIGIN_STATUS = 19189   # origin stub_status (accepted connections)
PORT_SLOW = 19186            # scenario 9: the slow endpoint (bench/lib/slow_origin.py)
PORT = {"fairlead": 19182, "nginx": 19183, "haproxy": 19184, "direct": PORT_ORIGIN,
        "fairlead-w1": 19182, "fairlead-w2": 19185,
        "fairlead-rr": 19191, "fairlead-lr": 19187, "haproxy-lc": 19188, "nginx-lc": 19190}
PROXIES = ["fairlead", "nginx", "haproxy"]
TARGETS = PROXIES + ["direct"]
LABEL = {"fairlead": "fairlead", "nginx": "nginx", "haproxy": "HAProxy", "direct": "direct (no proxy)",
         "fairlead-w1": "fairlead workers: 1", "fairlead-w2": "fairlead workers: 2",
         "fairlead-rr": "fairlead round_robin", "fairlead-lr": "fairlead least_request",
         "haproxy-lc": "HAProxy leastconn", "nginx-lc": "nginx least_conn"}
BALANCE_TARGETS = ["fairlead-rr", "fairlead-lr", "haproxy-lc", "nginx-lc"]
# Scenario 7: the same three proxies with a TLS listener (rows keep the names fairlead, nginx,
# haproxy, under the scenarios tls50, tlsnew and tls-resumed), and the two that serve files.
PORT_TLS = {"fairlead": 19193, "nginx": 19194, "haproxy": 19195}
PORT_STATIC = {"fairlead": 19196, "nginx": 19197}
SLOW_DELAY_MS = 20

# wrk scenarios: key -> settings. Durations in seconds: (default, --quick).
WRK = {
    "ka50": dict(num=1, title="Small responses over keep-alive, 50 connections", path="/", conns=50,
                 dur=(10, 3), extra=[], body=None),
    "ka1": dict(num=1, title="Small responses over keep-alive, 1 connection (latency)", path="/", conns=1,
                dur=(5, 2), extra=[], body=None),
    "close": dict(num=2, title="A new client connection per request (Connection: close), 50 connections",
                  path="/", conns=50, dur=(5, 2), extra=["-H", "Connection: close"], body=None),
    "get1m": dict(num=3, title="1 MiB responses, 16 connections", path="/1m", conns=16, dur=(5, 2),
                  extra=[], body="response"),
    "post1m": dict(num=3, title="1 MiB uploads (POST), 16 connections", path="/upload", conns=16, dur=(5, 2),
                   extra=[], body="request"),
    "tls50": dict(num=7, title="HTTPS: small responses over keep-alive, 50 connections", path="/", conns=50,
                  dur=(10, 3), extra=[], body=None, scheme="https"),
    "tlsnew": dict(num=7, title="HTTPS: a new TLS connection per request (resumed from a ticket), 50 connections",
                   path="/", conns=50, dur=(5, 2), extra=["-H", "Connection: close"], body=None, scheme="https"),
    "static10k": dict(num=7, title="A 10 KiB static file over keep-alive, 50 connections", path="/10k", conns=50,
                      dur=(10, 3), extra=[], body=None),
}
GROUPS = {  # scenario group -> wrk scenario keys (proxies are restarted fresh for each group)
    "small": ["ka50", "ka1"], "close": ["close"], "large": ["get1m", "post1m"],
}
ALL_SCENARIOS = ["small", "close", "large", "idle", "reuse", "deploy", "tls", "scaling", "balance"]

PROCS = []   # every process we started, stopped by PID at exit


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def die(msg):
    log("error: " + msg)
    sys.exit(1)

#!/usr/bin/python3
"""The load of bench scenario 6 (deploy safety): --threads keep-alive client connections sending GETs
at a steady total --rate for --duration seconds, on a seeded schedule (the same for every proxy);
--slow-percent of them ask the app to take --slow-ms. Nothing is sent after --duration (a thread a
slow answer held up skips what it missed). Stops by itself. Prints one JSON line: how
many requests were sent and how each ended, per second and in total.

Outcomes: ok (2xx), 5xx, other (another status), refused (no connection), reset (the connection
closed or reset before the whole response), truncated (a response cut short), timeout. Like a
browser or a load balancer, a request whose *reused* connection turns out to be closed before any
byte of the answer is sent once more on a new connection (RFC 9112 §9.3.1); that is counted as
`retried`, and only the second outcome counts.
"""
import argparse
import http.client
import json
import random
import socket
import threading
import time

OUTCOMES = ("ok", "5xx", "other", "refused", "reset", "truncated", "timeout")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--threads", type=int, default=50)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--slow-percent", type=float, default=0)
    ap.add_argument("--slow-ms", type=int, default=2000)
    ap.add_argument("--timeout", type=float, default=15)
    ap.add_argument("--seed", type=int, default=6)
    a = ap.parse_args()

    lock = threading.Lock()
    seconds = [dict.fromkeys(OUTCOMES + ("sent", "retried"), 0) for _ in range(int(a.duration) + 1)]
    start = time.monotonic()

    def record(second, outcome, retried):
        with lock:
            row = seconds[min(second, len(seconds) - 1)]
            row["sent"] += 1
            row[outcome] += 1
            row["retried"] += retried

    def attempt(conn, path):
        """One request on `conn`: (outcome, whether nothing at all came back)."""
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
        except ConnectionRefusedError:
            return "refused", True
        except socket.timeout:
            return "timeout", False
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            return "reset", True
        except OSError:
            return "reset", True
        try:
            resp.read()
        except http.client.IncompleteRead:
            return "truncated", False
        except socket.timeout:
            return "timeout", False
        except OSError:
            return "truncated", False
        if resp.status >= 500:
            return "5xx", False
        return ("ok" if resp.status < 300 else "other"), False

    def client(index):
        rng = random.Random(a.seed * 1000 + index)
        gap = a.threads / a.rate
        t = rng.uniform(0, gap)
        conn = None
        used = False
        while t < a.duration:
            delay = start + t - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            elif time.monotonic() - start >= a.duration:
                break  # a slow answer held this thread past the end: nothing is sent after it
            slow = rng.uniform(0, 100) < a.slow_percent
            path = f"/?ms={a.slow_ms}" if slow else "/"
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.timeout)
                used = False
            outcome, nothing = attempt(conn, path)
            retried = 0
            if outcome != "ok" and nothing and used:  # a kept-alive connection closed under us
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=a.timeout)
                outcome, _ = attempt(conn, path)
                retried = 1
            record(int(t), outcome, retried)
            if outcome == "ok":
                used = True
            else:
                conn.close()
                conn = None
            t += gap * rng.uniform(0.5, 1.5)
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(a.threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=a.duration + a.timeout + 10)
    total = dict.fromkeys(OUTCOMES + ("sent", "retried"), 0)
    for row in seconds:
        for k, v in row.items():
            total[k] += v
    print(json.dumps({"total": total, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()

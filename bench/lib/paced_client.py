#!/usr/bin/python3
"""A paced keep-alive HTTP/1.1 client for scenario 5 (upstream connection reuse).

--threads client connections, each a thread with its own keep-alive connection, send GETs on a
fixed, seeded schedule (the same for every proxy):
  * a steady stream totalling about --rate requests/s (each thread waits a random 0.5-1.5 x its
    mean interval between requests), which a proxy serves with one or two upstream connections;
  * every 4.6-5.4 s (seeded random) a burst where every thread sends at once, so the proxy's
    upstream pool grows to about --threads connections and most of them then sit idle for about
    5 s: right where an origin with a 5 s keep-alive timeout (uvicorn's default) closes them.
A proxy that reuses a pooled connection the origin is closing loses the race: the client sees an
error unless the proxy retries safely. Any exception or non-200 answer counts as an error and the
thread reconnects. Prints one JSON line. Stops by itself after --duration seconds.
"""
import argparse
import http.client
import json
import random
import sys
import threading
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--burst-min", type=float, default=4.6)
    ap.add_argument("--burst-max", type=float, default=5.4)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=5.0)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    bursts = []
    t = 0.5
    while t < a.duration:
        bursts.append(t)
        t += rng.uniform(a.burst_min, a.burst_max)
    mean_gap = a.threads / a.rate
    schedules = []
    for _ in range(a.threads):
        times = list(bursts)
        t = rng.uniform(0, mean_gap)
        while t < a.duration:
            times.append(t)
            t += mean_gap * rng.uniform(0.5, 1.5)
        schedules.append(sorted(times))

    lock = threading.Lock()
    totals = {"requests": 0, "ok": 0, "errors": 0, "kinds": {}}
    start = time.monotonic() + 0.2
    hard_stop = start + a.duration + 2 * a.timeout + 5

    def worker(schedule):
        conn = http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
        ok = errors = 0
        kinds: dict[str, int] = {}
        for at in schedule:
            now = time.monotonic()
            if now > hard_stop:
                break
            if start + at > now:
                time.sleep(start + at - now)
            try:
                conn.request("GET", a.path, headers={"User-Agent": "fairlead-bench-paced"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    ok += 1
                else:
                    errors += 1
                    kinds[f"status {resp.status}"] = kinds.get(f"status {resp.status}", 0) + 1
            except Exception as e:  # noqa: BLE001 - every failure is a failed request here
                errors += 1
                kinds[type(e).__name__] = kinds.get(type(e).__name__, 0) + 1
                conn.close()
                conn = http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
        conn.close()
        with lock:
            totals["requests"] += ok + errors
            totals["ok"] += ok
            totals["errors"] += errors
            for k, v in kinds.items():
                totals["kinds"][k] = totals["kinds"].get(k, 0) + v

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in schedules]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=max(0.1, hard_stop - time.monotonic()))
    totals["seconds"] = round(time.monotonic() - start, 3)
    totals["bursts"] = len(bursts)
    print(json.dumps(totals), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

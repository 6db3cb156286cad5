#!/usr/bin/python3
"""Hostile clients: 1,000 slowloris clients (a header byte a second) and 1,000 slow readers (a large
response asked for and never read) against a fairlead binary, while normal clients go on.

    /usr/bin/python3 tests/e2e/hostile_clients_test.py --fairlead build/proxy/fairlead --app-dir examples/app

fairlead serves a static root of its own here (an index page and a 64 MiB file), so that what is
measured is fairlead, not an app. Normal clients (4 keep-alive connections, one request at a time
each) run for a while alone, then again with the 2,000 hostile connections open; the hostile ones
run in a process of their own so that they do not share this one's interpreter with the clients
being timed. Checked: every normal request succeeds, their p99 latency with the hostile clients
stays within 2x of the p99 without them (and 1 ms, for the resolution of a p99 under a
millisecond), and fairlead closes every hostile connection by its timeout (timeouts.request_header
for the slowloris clients, timeouts.response_send_idle for the slow readers).
"""

import asyncio
import http.client
import multiprocessing
import os
import resource
import socket
import sys
import threading
import time
import unittest
from pathlib import Path

from processes import Child, free_port, run_e2e, wait_until_ok

FAIRLEAD: Path
WORK_DIR: Path

HOSTILE_EACH = 1000
TIMEOUT_S = 3          # request_header and response_send_idle in this test's config
CLOSE_GRACE_S = 10     # what a hostile connection may outlive its timeout by before it counts as kept
NORMAL_CLIENTS = 4
PHASE_S = 6
TCP_CLOSE, TCP_CLOSE_WAIT = 7, 8  # tcp_info.tcpi_state (linux/tcp_states.h)


def hostile(port: int, opened: multiprocessing.Event, report: multiprocessing.Queue) -> None:
    """Opens HOSTILE_EACH of each kind, tells `opened`, then reports how long each lasted."""

    async def slowloris(n: int) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        head = f"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow-{n}: ".encode() + b"a" * 10_000
        try:
            for byte in head:  # never done: the head has no end
                writer.write(bytes([byte]))
                await writer.drain()
                try:
                    if await asyncio.wait_for(reader.read(1 << 16), 1.0) == b"":
                        break  # closed by fairlead (after its 408, if any)
                except asyncio.TimeoutError:
                    continue
        except OSError:
            pass
        finally:
            writer.close()
        return time.monotonic() - started

    async def slow_reader(n: int) -> float:
        sock = socket.socket()
        # A small receive window, set before the connection opens: a thousand of these must not
        # hold gigabytes of kernel buffers.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        started = time.monotonic()
        await asyncio.get_running_loop().sock_sendall(sock, f"GET /big.bin?n={n} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        # Never read. fairlead's close shows in the connection's TCP state: CLOSE_WAIT after its
        # FIN, CLOSE after a reset.
        while time.monotonic() - started < TIMEOUT_S + CLOSE_GRACE_S + 5:
            await asyncio.sleep(0.5)
            state = sock.getsockopt(socket.SOL_TCP, socket.TCP_INFO, 1)[0]
            if state in (TCP_CLOSE, TCP_CLOSE_WAIT):
                break
        sock.close()
        return time.monotonic() - started

    async def main() -> None:
        tasks = [asyncio.create_task(slowloris(n)) for n in range(HOSTILE_EACH)]
        tasks += [asyncio.create_task(slow_reader(n)) for n in range(HOSTILE_EACH)]
        await asyncio.sleep(0.5)
        opened.set()
        lasted = await asyncio.gather(*tasks, return_exceptions=True)
        report.put([x if isinstance(x, float) else repr(x) for x in lasted])

    asyncio.run(main())


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.99) - 1)]


def normal_clients(port: int, seconds: float) -> tuple[list[float], list[str]]:
    """NORMAL_CLIENTS keep-alive connections, one request at a time each: latencies and failures."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                conn.request("GET", "/index.html")
                resp = conn.getresponse()
                resp.read()
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took)
                    if resp.status != 200:
                        failures.append(f"status {resp.status}")
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    failures.append(f"{type(e).__name__}: {e}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            time.sleep(0.002)
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(NORMAL_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, failures


class HostileClients(unittest.TestCase):
    def test_hostile_clients_neither_stop_normal_ones_nor_stay(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 2 * HOSTILE_EACH + 256:
            self.skipTest(f"needs {2 * HOSTILE_EACH + 256} descriptors; the hard limit here is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the children inherit it
        root = WORK_DIR / "www"
        root.mkdir()
        (root / "index.html").write_text("<!doctype html><title>x</title><p>hello</p>\n" * 20)
        with open(root / "big.bin", "wb") as f:
            f.truncate(64 * 1024 * 1024)
        port, admin = free_port(), free_port()
        config = WORK_DIR / "fairlead.yaml"
        config.write_text(
            f"listeners: [{{ name: public, address: 127.0.0.1:{port}, routes: [{{ static: {{ root: {root} }} }}] }}]\n"
            "clusters: [{ name: unused, endpoints: [{ address: 127.0.0.1:9 }] }]\n"
            f"timeouts: {{ request_header: {TIMEOUT_S}s, response_send_idle: {TIMEOUT_S}s }}\n"
            f"admin: {{ address: 127.0.0.1:{admin} }}\nlog: {{ access: off }}\n")
        fairlead = Child("fairlead", [str(FAIRLEAD), "-c", str(config)], WORK_DIR, dict(os.environ), WORK_DIR)
        try:
            wait_until_ok(port, "/index.html", [fairlead], "fairlead")
            alone, alone_failures = normal_clients(port, PHASE_S)

            opened, report = multiprocessing.Event(), multiprocessing.Queue()
            attackers = multiprocessing.Process(target=hostile, args=(port, opened, report))
            attackers.start()
            self.assertTrue(opened.wait(60), "the hostile clients did not get their connections open")
            attacked, attacked_failures = normal_clients(port, PHASE_S)
            lasted = report.get(timeout=TIMEOUT_S + CLOSE_GRACE_S + 60)
            attackers.join(30)
            fairlead.check_running()
        finally:
            status = fairlead.stop()

        base, under = p99(alone), p99(attacked)
        errors = [x for x in lasted if isinstance(x, str)]
        slowloris, readers = lasted[:HOSTILE_EACH], lasted[HOSTILE_EACH:]
        longest = [max((x for x in kind if isinstance(x, float)), default=0.0) for kind in (slowloris, readers)]
        print(f"\nnormal clients alone: {len(alone)} requests, p99 {base * 1000:.2f} ms; with {2 * HOSTILE_EACH} hostile "
              f"connections: {len(attacked)} requests, p99 {under * 1000:.2f} ms ({under / base:.2f}x)\n"
              f"the longest slowloris connection lasted {longest[0]:.1f} s, the longest slow reader "
              f"{longest[1]:.1f} s (timeouts {TIMEOUT_S} s); client-side errors: {len(errors)}", file=sys.stderr)
        self.assertEqual(alone_failures + attacked_failures, [])
        self.assertEqual(errors, [])
        self.assertLessEqual(under, max(2 * base, base + 0.001))
        self.assertLess(longest[0], TIMEOUT_S + CLOSE_GRACE_S)
        self.assertLess(longest[1], TIMEOUT_S + CLOSE_GRACE_S)
        self.assertEqual(status, 0)


def configure(fairlead: Path, app_dir: Path, work_dir: Path) -> None:
    global FAIRLEAD, WORK_DIR
    FAIRLEAD, WORK_DIR = fairlead, work_dir


if __name__ == "__main__":
    run_e2e("fairlead-hostile-", configure)

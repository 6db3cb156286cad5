#!/usr/bin/python3
"""End-to-end: the example FastAPI app (examples/app) behind a real fairlead binary.

    /usr/bin/python3 tests/e2e/example_app_test.py --fairlead build/proxy/fairlead \
        --app-dir examples/app [unittest arguments, e.g. -k websocket]

Starts uvicorn and fairlead on free loopback ports, checks the app through fairlead, and stops
both by PID. Stdlib only, plus the websockets client from python3-websockets and the Prometheus
text parser from python3-prometheus-client. Run it with Debian's
/usr/bin/python3, which has FastAPI and uvicorn (ctest does: tests/e2e/CMakeLists.txt).
"""

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from processes import Child, free_port, wait_until_ok

sys.dont_write_bytecode = True  # app.pattern is imported from the source tree

MIB = 1024 * 1024

FAIRLEAD: Path
APP_DIR: Path
WORK_DIR: Path


def pattern_sha256(mib: int) -> str:
    """sha256 of GET /api/stream?mib=N, from the app's own definition of the byte pattern."""
    sys.path.insert(0, str(APP_DIR))
    try:
        from app.pattern import chunks  # plain Python, no FastAPI import
    finally:
        sys.path.remove(str(APP_DIR))
    digest = hashlib.sha256()
    for chunk in chunks(mib):
        digest.update(chunk)
    return digest.hexdigest()


class PeakRss:
    """Samples a process's resident set size every 10 ms while the block runs."""

    def __init__(self, pid: int):
        self.pid = pid
        self.idle_kib = self.sample()
        self.peak_kib = self.idle_kib
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def sample(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for pid {self.pid}")

    def _watch(self) -> None:
        while not self._done.wait(0.01):
            self.peak_kib = max(self.peak_kib, self.sample())

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, self.sample())


# The bound: a 1 GiB body streams through without fairlead's RSS growing past this.
MAX_RSS_GROWTH_KIB = 64 * 1024


class ExampleAppThroughFairlead(unittest.TestCase):
    app: Child
    fairlead: Child
    port: int

    @classmethod
    def setUpClass(cls):
        app_port, cls.port, cls.admin_port = free_port(), free_port(), free_port()
        cls.https_port, cls.redirect_port = free_port(), free_port()
        dist = APP_DIR / "frontend" / "dist"
        if not (dist / "index.html").is_file():
            raise RuntimeError(f"{dist} is not built: run scripts/build-frontend (scripts/test does)")
        certs = WORK_DIR / "certs"
        subprocess.run([str(APP_DIR.parent.parent / "certs" / "make-dev-certs"), "--out", str(certs)],
                       check=True, stdout=subprocess.DEVNULL)
        cls.tls_context = ssl.create_default_context(cafile=str(certs / "dev-ca.crt"))
        env = dict(os.environ, APP_DB=str(WORK_DIR / "app.db"), PYTHONDONTWRITEBYTECODE="1")
        cls.app = Child("uvicorn", ["/usr/bin/python3", "-m", "uvicorn", "app.main:app",
                                    "--host", "127.0.0.1", "--port", str(app_port), "--no-proxy-headers"],
                        APP_DIR, env, WORK_DIR)
        cls.fairlead = None
        try:
            wait_until_ok(app_port, "/healthz", [cls.app], "the example app")
            config = WORK_DIR / "fairlead.yaml"
            # The shape of config/development.yaml: the API and WebSocket to the app, the rest from
            # the built frontend; once over plain HTTP (most tests), once over HTTPS, and a redirect.
            routes = (
                "    routes:\n"
                "      - { match: { path_prefix: /api/ }, cluster: app }\n"
                "      - { match: { path_prefix: /ws/ }, cluster: app }\n"
                "      - { match: { path: /healthz }, cluster: app }\n"
                f"      - static: {{ root: {dist}, spa_fallback: true }}\n")
            config.write_text(
                "listeners:\n"
                f"  - name: public\n    address: 127.0.0.1:{cls.port}\n" + routes +
                f"  - name: https\n    address: 127.0.0.1:{cls.https_port}\n"
                f"    tls: {{ certificates: [{{ cert: {certs}/localhost.crt, key: {certs}/localhost.key }}], hsts: 1h }}\n" +
                routes +
                f"  - {{ name: redirect, address: 127.0.0.1:{cls.redirect_port}, redirect_to_https: {cls.https_port} }}\n"
                "clusters:\n"
                "  - name: app\n"
                f"    endpoints: [{{ address: 127.0.0.1:{app_port} }}]\n"
                f"admin: {{ address: 127.0.0.1:{cls.admin_port} }}\n"
                "log: { access: json }\n")
            cls.fairlead = Child("fairlead", [str(FAIRLEAD), "-c", str(config)], WORK_DIR, dict(os.environ), WORK_DIR)
            wait_until_ok(cls.port, "/healthz", [cls.app, cls.fairlead], "fairlead in front of the app")
        except BaseException:
            cls.stopChildren()
            raise
        print(f"\nfairlead on 127.0.0.1:{cls.port} -> app on 127.0.0.1:{app_port}", file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        status = cls.stopChildren()
        # After SIGTERM fairlead drains and exits 0 (docs/operations.md "Signals and draining"); under ASan a leak or
        # an error at shutdown also shows up here as a non-zero status.
        if status != 0:
            raise AssertionError(f"fairlead exited with status {status} after SIGTERM")

    @classmethod
    def stopChildren(cls) -> int | None:
        """Proxy first, then the app (the drain order). Returns fairlead's exit status."""
        status = cls.fairlead.stop() if cls.fairlead else None
        cls.app.stop()
        return status

    # --- helpers ---------------------------------------------------------------------------------

    def connect(self, timeout: float = 60) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        self.addCleanup(conn.close)
        return conn

    def fetch(self, method: str, path: str, body=None, headers=None, **kwargs):
        """One request on a new connection: (response, body bytes)."""
        conn = self.connect()
        conn.request(method, path, body=body, headers=headers or {}, **kwargs)
        resp = conn.getresponse()
        return resp, resp.read()

    def fetch_json(self, method: str, path: str, payload=None, headers=None):
        headers = dict(headers or {})
        body = None
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        resp, data = self.fetch(method, path, body, headers)
        return resp.status, (json.loads(data) if data else None)

    def echo_headers(self, headers=None) -> dict[str, str]:
        status, seen = self.fetch_json("GET", "/api/echo?probe=1", headers=headers)
        self.assertEqual(status, 200)
        self.assertEqual((seen["method"], seen["path"], seen["query"]), ("GET", "/api/echo", "probe=1"))
        return seen["headers"]

    def download_sha256(self, path: str) -> tuple[int, str]:
        conn = self.connect()
        conn.request("GET", path)
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        digest, size = hashlib.sha256(), 0
        while piece := resp.read(MIB):  # raises IncompleteRead if a Content-Length body is cut short
            digest.update(piece)
            size += len(piece)
        return size, digest.hexdigest()

    def upload(self, mib: int, chunked: bool) -> None:
        sent = hashlib.sha256()

        def body():  # generated as it is sent: the request body never exists whole
            for _ in range(mib):
                piece = os.urandom(MIB)
                sent.update(piece)
                yield piece

        framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(mib * MIB)}
        headers = {"Content-Type": "application/octet-stream", **framing}
        resp, data = self.fetch("POST", "/api/upload", body(), headers, encode_chunked=chunked)
        self.assertEqual(resp.status, 200, data[:200])
        self.assertEqual(json.loads(data), {"bytes": mib * MIB, "sha256": sent.hexdigest()})

    # --- tests -----------------------------------------------------------------------------------

    def test_healthz(self):
        self.assertEqual(self.fetch_json("GET", "/healthz"), (200, {"status": "ok"}))

    def test_items_crud_round_trip(self):
        status, item = self.fetch_json("POST", "/api/items", {"name": "e2e", "description": "via fairlead"})
        self.assertEqual(status, 201)
        url = f"/api/items/{item['id']}"
        self.assertEqual(item, {"id": item["id"], "name": "e2e", "description": "via fairlead"})
        self.assertEqual(self.fetch_json("GET", url), (200, item))
        status, items = self.fetch_json("GET", "/api/items")
        self.assertEqual(status, 200)
        self.assertIn(item, items)

        updated = {"id": item["id"], "name": "e2e renamed", "description": None}
        self.assertEqual(self.fetch_json("PUT", url, {"name": "e2e renamed"}), (200, updated))
        self.assertEqual(self.fetch_json("GET", url), (200, updated))

        self.assertEqual(self.fetch_json("DELETE", url), (204, None))
        self.assertEqual(self.fetch_json("GET", url)[0], 404)
        self.assertEqual(self.fetch_json("DELETE", url)[0], 404)

    def test_forwarded_headers_are_set(self):
        seen = self.echo_headers()
        self.assertEqual(seen.get("x-forwarded-for"), "127.0.0.1")
        self.assertEqual(seen.get("x-forwarded-proto"), "http")
        self.assertEqual(seen.get("x-forwarded-host"), f"127.0.0.1:{self.port}")  # the Host we sent
        self.assertEqual(seen.get("x-forwarded-port"), str(self.port))

    def test_untrusted_forwarded_for_is_replaced(self):
        # 127.0.0.1 is not among the trusted proxies, so what it claims is dropped, not appended to.
        seen = self.echo_headers({"X-Forwarded-For": "203.0.113.7"})
        self.assertEqual(seen.get("x-forwarded-for"), "127.0.0.1")

    def test_app_sees_the_client_address(self):
        # From 127.0.0.2 the app must see 127.0.0.2, not fairlead's 127.0.0.1; from 127.0.0.1 (a
        # browser on the same machine) it must see 127.0.0.1, not None.
        for source in ("127.0.0.2", "127.0.0.1"):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(source, 0))
            self.addCleanup(conn.close)
            conn.request("GET", "/api/echo")
            resp = conn.getresponse()
            seen = json.loads(resp.read())
            self.assertEqual(resp.status, 200)
            self.assertEqual(seen["client"], source)
            self.assertEqual(seen["headers"].get("x-forwarded-for"), source)

    def test_responses_carry_the_request_id(self):
        resp, _ = self.fetch("GET", "/api/echo", headers={"X-Request-Id": "e2e-quote-me-0002"})
        self.assertEqual(resp.getheader("X-Request-Id"), "e2e-quote-me-0002")
        resp, _ = self.fetch("GET", "/healthz")
        self.assertRegex(resp.getheader("X-Request-Id") or "", r"^[0-9a-f]{32}$")

    def test_request_id_generated_when_absent(self):
        first = self.echo_headers().get("x-request-id")
        second = self.echo_headers().get("x-request-id")
        self.assertTrue(first, "no X-Request-Id reached the app")
        self.assertTrue(second, "no X-Request-Id reached the app")
        self.assertNotEqual(first, second)

    def test_request_id_kept_when_present(self):
        seen = self.echo_headers({"X-Request-Id": "e2e-client-id-0001"})
        self.assertEqual(seen.get("x-request-id"), "e2e-client-id-0001")

    def test_stream_download_1gib_in_bounded_memory(self):
        with PeakRss(self.fairlead.proc.pid) as rss:
            self.assertEqual(self.download_sha256("/api/stream?mib=1024"), (1024 * MIB, pattern_sha256(1024)))
        print(f"\n1 GiB download: fairlead RSS idle {rss.idle_kib} KiB, peak {rss.peak_kib} KiB", file=sys.stderr)
        self.assertLess(rss.peak_kib - rss.idle_kib, MAX_RSS_GROWTH_KIB)

    def test_stream_download_chunked_response(self):
        self.assertEqual(self.download_sha256("/api/stream?mib=16&chunked=true"), (16 * MIB, pattern_sha256(16)))

    def test_upload_1gib_content_length_in_bounded_memory(self):
        with PeakRss(self.fairlead.proc.pid) as rss:
            self.upload(1024, chunked=False)
        print(f"\n1 GiB upload: fairlead RSS idle {rss.idle_kib} KiB, peak {rss.peak_kib} KiB", file=sys.stderr)
        self.assertLess(rss.peak_kib - rss.idle_kib, MAX_RSS_GROWTH_KIB)

    def test_upload_64mib_chunked(self):
        self.upload(64, chunked=True)

    def test_slow_response(self):
        started = time.monotonic()
        self.assertEqual(self.fetch_json("GET", "/api/slow?ms=300"), (200, {"slept_ms": 300}))
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_slow_responses_overlap(self):
        # Four 1 s requests at once: served concurrently they take about 1 s, one after the other 4 s.
        results = []

        def one():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            try:
                conn.request("GET", "/api/slow?ms=1000")
                resp = conn.getresponse()
                resp.read()
                results.append(resp.status)
            finally:
                conn.close()

        started = time.monotonic()
        threads = [threading.Thread(target=one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 4)
        self.assertLess(time.monotonic() - started, 3.5)

    def https(self) -> http.client.HTTPSConnection:
        # 127.0.0.1, not localhost: the certificate names both, and a minimal root may not resolve
        # localhost (no /etc/hosts).
        conn = http.client.HTTPSConnection("127.0.0.1", self.https_port, timeout=30, context=self.tls_context)
        self.addCleanup(conn.close)
        return conn

    def script_of(self, index: bytes) -> str:
        """The bundle the built index.html loads (Vite names it assets/index-HASH.js)."""
        match = re.search(rb'src="(/assets/index-[^"]+\.js)"', index)
        self.assertIsNotNone(match, index[:300])
        return match.group(1).decode()

    def test_frontend_is_served_by_fairlead(self):
        resp, index = self.fetch("GET", "/")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type", "").startswith("text/html"))
        self.assertEqual(resp.getheader("Cache-Control"), "no-cache")
        self.assertIn(b"<title>fairlead example</title>", index)
        self.assertIn(b'<div id="root">', index)
        resp, script = self.fetch("GET", self.script_of(index))
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Type"), "text/javascript; charset=utf-8")
        self.assertEqual(resp.getheader("Cache-Control"), "public, max-age=31536000, immutable")
        self.assertIn(b"/api/items", script)  # the React app's own code, bundled
        self.assertIn(b"/ws/echo", script)
        # A deep link of the single-page app: the browser gets the index, React routes it.
        resp, body = self.fetch("GET", "/items/3", headers={"Accept": "text/html"})
        self.assertEqual((resp.status, body), (200, index))
        resp, _ = self.fetch("GET", "/assets/missing-AAAA1111.js", headers={"Accept": "*/*"})
        self.assertEqual(resp.status, 404)

    def test_https_serves_the_page_and_the_api(self):
        conn = self.https()
        conn.request("GET", "/")
        resp = conn.getresponse()
        index = resp.read()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Strict-Transport-Security"), "max-age=3600")
        self.assertEqual(conn.sock.version(), "TLSv1.3")
        conn.request("GET", self.script_of(index), headers={"Accept-Encoding": "gzip, br"})
        resp = conn.getresponse()
        compressed = resp.read()
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("Content-Encoding"), "br")  # Vite wrote the sibling (vite.config.js)
        self.assertEqual(resp.getheader("Vary"), "Accept-Encoding")
        self.assertGreater(len(compressed), 1000)
        conn.request("POST", "/api/items", body=json.dumps({"name": "over https"}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        item = json.loads(resp.read())
        self.assertEqual(resp.status, 201)
        conn.request("GET", "/api/items")
        resp = conn.getresponse()
        self.assertIn(item, json.loads(resp.read()))
        conn.request("GET", "/api/echo")
        resp = conn.getresponse()
        self.assertEqual(json.loads(resp.read())["headers"].get("x-forwarded-proto"), "https")

    def test_http_redirects_to_https(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.redirect_port, timeout=10)
        self.addCleanup(conn.close)
        conn.request("GET", "/api/items?limit=5", headers={"Host": f"localhost:{self.redirect_port}"})
        resp = conn.getresponse()
        resp.read()
        self.assertEqual(resp.status, 308)
        self.assertEqual(resp.getheader("Location"), f"https://localhost:{self.https_port}/api/items?limit=5")

    def test_websocket_echo(self):
        try:
            import websockets
        except ImportError as e:
            print(f"\nSKIP test_websocket_echo: cannot import websockets ({e}); "
                  "install python3-websockets", file=sys.stderr)
            self.skipTest("websockets module not installed")

        binary = os.urandom(256 * 1024)

        async def exchange(url, **tls):
            async with websockets.connect(url, open_timeout=10, close_timeout=5, **tls) as ws:
                await ws.send("hello through fairlead")
                text = await ws.recv()
                await ws.send(binary)
                data = await ws.recv()
                return text, data

        for url, tls in ((f"ws://127.0.0.1:{self.port}/ws/echo", {}),
                         (f"wss://127.0.0.1:{self.https_port}/ws/echo", {"ssl": self.tls_context})):
            text, data = asyncio.run(asyncio.wait_for(exchange(url, **tls), 30))
            self.assertEqual(text, "hello through fairlead", url)
            self.assertEqual(data, binary, url)

    def scrape(self) -> dict:
        """/metrics as Prometheus's own parser reads it: {(sample name, sorted labels): value}."""
        conn = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode()
        conn.close()
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/plain; version=0.0.4"))
        samples = {}
        for family in text_string_to_metric_families(text):
            self.assertTrue(family.documentation, f"{family.name} has no HELP text")
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    def test_metrics_count_the_requests_sent(self):
        before = self.scrape()
        sent = 25
        conn = self.connect()
        for _ in range(sent):
            conn.request("GET", "/healthz")
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 200)
        conn.close()

        def delta(name, **labels):
            key = (name, tuple(sorted(labels.items())))
            return after.get(key, 0) - before.get(key, 0)

        # A request is counted as its response completes, a moment after the client may have read
        # it: scrape until the last one is in, then every figure must be exact.
        counted = (("fairlead_requests_total", {"listener": "public", "code_class": "2xx"}),
                   ("fairlead_request_duration_seconds_count", {"listener": "public"}),
                   ("fairlead_request_duration_seconds_bucket", {"listener": "public", "le": "+Inf"}),
                   ("fairlead_upstream_response_seconds_count", {"cluster": "app"}))
        deadline = time.monotonic() + 5
        after = self.scrape()
        while any(delta(name, **labels) < sent for name, labels in counted) and time.monotonic() < deadline:
            time.sleep(0.01)
            after = self.scrape()

        for name, labels in counted:
            self.assertEqual(delta(name, **labels), sent, name)
        for other in ("none", "1xx", "3xx", "4xx", "5xx"):
            self.assertEqual(delta("fairlead_requests_total", listener="public", code_class=other), 0)
        self.assertEqual(after[("fairlead_ready", ())], 1)
        build = [value for (name, labels), value in after.items() if name == "fairlead_build_info"]
        self.assertEqual(build, [1])

    def test_keepalive_100_sequential_requests(self):
        conn = self.connect(timeout=10)
        conn.connect()
        sock = conn.sock
        for i in range(100):
            if i % 2 == 0:
                conn.request("GET", "/healthz")
                expected = {"status": "ok"}
            else:  # requests with bodies too: the body framing must not break the connection
                body = os.urandom(1000 + i)
                conn.request("POST", "/api/upload", body=body)
                expected = {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            resp = conn.getresponse()
            data = resp.read()
            self.assertEqual((resp.status, json.loads(data)), (200, expected), f"request {i + 1}")
            self.assertFalse(resp.will_close, f"connection closed after request {i + 1}")
            self.assertIs(conn.sock, sock, f"http.client reconnected before request {i + 1}")


def main() -> int:
    global FAIRLEAD, APP_DIR, WORK_DIR
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fairlead", required=True, type=Path, help="the fairlead binary")
    parser.add_argument("--app-dir", required=True, type=Path, help="examples/app")
    args, unittest_args = parser.parse_known_args()
    FAIRLEAD, APP_DIR = args.fairlead.resolve(), args.app_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="fairlead-e2e-") as tmp:
        WORK_DIR = Path(tmp)
        program = unittest.main(argv=[sys.argv[0], *unittest_args], exit=False, verbosity=2)
        result = program.result
        if not result.wasSuccessful():
            cls = ExampleAppThroughFairlead
            for child in (getattr(cls, "fairlead", None), getattr(cls, "app", None)):
                if child is not None:
                    print(f"\n----- {child.name} stderr (tail) -----\n{child.tail('stderr')}", file=sys.stderr)
            if getattr(cls, "fairlead", None) is not None:
                print(f"\n----- fairlead stdout, the access log (tail) -----\n{cls.fairlead.tail('stdout', 20)}",
                      file=sys.stderr)
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

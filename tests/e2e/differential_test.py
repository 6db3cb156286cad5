#!/usr/bin/python3
"""Differential check: the malformed-request table sent to fairlead, nginx and HAProxy alike.

    /usr/bin/python3 tests/e2e/differential_test.py --fairlead build/proxy/fairlead --app-dir examples/app

The table is tests/integration/smuggling_test.cpp's, as the request seeds of the fuzz targets
hold it (tests/fuzz/corpus/request_head/table_*: the case's name, and its bytes after one byte
that the fuzz target uses). Each proxy, started here on loopback with a config of its own, sits
in front of one recording app that keeps the bytes each connection brought. For every case:

- fairlead must not forward a whole request that both nginx and HAProxy refuse (a head whose
  body turns out broken is forwarded as far as it goes and then cut: the app never gets a whole
  request, and that is not forwarding it);
- where all three forward it whole, they must agree on what the app is asked: the request line and
  the body's bytes, with the framing each chose decoded (the proxies rewrite headers differently).

fairlead refuses more than the others on purpose in places (STRICTER below says why); refusing
is never a failure. Debian's nginx-light and haproxy (scripts/install-deps).
"""

import os
import re
import socket
import sys
import threading
import time
import unittest
from pathlib import Path

from processes import Child, free_port, run_e2e

FAIRLEAD: Path
APP_DIR: Path
WORK_DIR: Path

# Cases fairlead refuses though nginx or HAProxy forward them whole, and why.
STRICTER = {
    "BareLfAfterALeadingEmptyLine": "RFC 9112 §2.2 lets a recipient take a bare LF for a line end; an app that does not would read a different message",
    "BareLfAfterHeader": "RFC 9112 §2.2 lets a recipient take a bare LF for a line end; an app that does not would read a different message",
    "BareLfAfterRequestLine": "RFC 9112 §2.2 lets a recipient take a bare LF for a line end; an app that does not would read a different message",
    "BareLfEndingTheHead": "RFC 9112 §2.2 lets a recipient take a bare LF for a line end; an app that does not would read a different message",
    "BareLfAfterChunkSize": "RFC 9112 §2.2 lets a recipient take a bare LF for a line end; an app that does not would read a different message",
    "BareLfAfterChunkData": "RFC 9112 §2.2 lets a recipient take a bare LF for a line end; an app that does not would read a different message",
    "ContentLengthThenTransferEncoding": "RFC 9112 §6.3 lets a proxy drop Content-Length and go by the chunks; refusing leaves nothing for an app to read differently",
    "TransferEncodingThenContentLength": "RFC 9112 §6.3 lets a proxy drop Content-Length and go by the chunks; refusing leaves nothing for an app to read differently",
    "ContentLengthList": "RFC 9110 §8.6 allows folding a list of identical lengths; refusing leaves nothing to guess",
    "IdenticalDuplicateContentLengths": "RFC 9110 §8.6 allows folding identical lengths; refusing leaves nothing to guess",
    "ContentLengthOverflowing64Bits": "a length no 64-bit counter holds cannot frame a body",
    "ControlCharacterInAValue": "RFC 9110 §5.5: a value with a control character must be refused or cleaned; forwarding it passes the choice on",
    "DelInAValue": "RFC 9110 §5.5: a value with a control character must be refused or cleaned; forwarding it passes the choice on",
    "NulInAValue": "RFC 9110 §5.5: NUL in a value must be refused",
    "ControlCharacterInChunkExtension": "a chunk extension is tokens or quoted strings (RFC 9112 §7.1.1)",
    "OversizedChunkExtension": "chunk extensions are bounded, as the head is: an endless one is a slowloris in the body",
    "TrailerLineWithoutColon": "a trailer line is a field line, name ':' value (RFC 9112 §7.1.2)",
    "FoldedLineThatLooksLikeTransferEncoding": "obs-fold (RFC 9112 §5.2): refused, rather than unfolded into a value an app might read as a field of its own",
    "TransferEncodingValueOnFoldedLine": "obs-fold (RFC 9112 §5.2): refused, rather than unfolded into a value an app might read as a field of its own",
    "ObsFoldAfterALeadingEmptyLine": "obs-fold (RFC 9112 §5.2): refused, rather than unfolded into a value an app might read as a field of its own",
    "LineWithoutColon": "a field line is name ':' value (RFC 9112 §5)",
    "FragmentInTarget": "a request target has no fragment (RFC 9112 §3.2)",
    "HttpVersion2InRequestLine": "HTTP/2.0 in an HTTP/1 request line is not a version this parser speaks (RFC 9112 §2.3)",
    "InvalidHost": "RFC 9112 §3.2: a server must answer 400 to an invalid Host",
    "MissingHostInHttp11": "RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host",
    "MissingHttpVersion": "the request line is method SP target SP version, with single spaces (RFC 9112 §3) (no HTTP/0.9)",
    "TrailingSpaceAfterVersion": "the request line is method SP target SP version, with single spaces (RFC 9112 §3)",
    "TwoSpacesAfterMethod": "the request line is method SP target SP version, with single spaces (RFC 9112 §3)",
    "UnknownMethod": "501 for a method fairlead cannot forward faithfully (RFC 9110 §9.1)",
}


class RecordingApp:
    """Accepts connections and keeps what each brought until it goes quiet; answers every request
    head it sees with a small 200 and closes (one request per connection)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.received: list[bytes] = []
        self.active = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.active += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        data = b""
        conn.settimeout(0.5)
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass
        conn.close()
        with self.lock:
            self.received.append(data)
            self.active -= 1

    def take(self) -> list[bytes]:
        """What the connections that have ended brought, once none is open (the proxy's answer can
        reach its client before the app's connection has ended here)."""
        deadline = time.monotonic() + 10
        while True:
            with self.lock:
                if self.active == 0 or time.monotonic() > deadline:
                    got, self.received = self.received, []
                    return got
            time.sleep(0.01)


def asked(forwarded: bytes) -> tuple[bytes, bytes] | None:
    """What a forwarded request asks the app: its request line and its body, the framing the proxy
    chose decoded; None when no complete request arrived (a head without its end, a body cut off)."""
    head, ended, rest = forwarded.partition(b"\r\n\r\n")
    if not ended:
        return None
    lines = head.split(b"\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
        body = b""
        while True:
            size_line, found, rest = rest.partition(b"\r\n")
            try:
                size = int(size_line.split(b";")[0], 16)
            except ValueError:
                return None
            if not found:
                return None
            if size == 0:
                return (lines[0], body) if rest.endswith(b"\r\n") else None
            if len(rest) < size + 2:
                return None
            body, rest = body + rest[:size], rest[size + 2:]
    length = int(fields.get(b"content-length", b"0") or 0)
    return (lines[0], rest[:length]) if len(rest) >= length else None


def send(port: int, request: bytes) -> str:
    """The proxy's answer: its status code, or how the connection ended without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        try:
            s.sendall(request)
            answer = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            return "reset"
        except socket.timeout:
            return "no answer"
    m = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return m.group(1).decode() if m else ("closed" if not answer else "garbage")


class Differential(unittest.TestCase):
    def test_fairlead_forwards_nothing_both_others_refuse(self):
        apps = {name: RecordingApp() for name in ("fairlead", "nginx", "haproxy")}
        ports = {name: free_port() for name in apps}
        children = self.start_proxies({name: app.port for name, app in apps.items()}, ports)
        try:
            cases = sorted(CORPUS.glob("table_*"))
            self.assertGreater(len(cases), 50)
            failures, table = [], []
            for path in cases:
                name = path.name.removeprefix("table_")
                request = path.read_bytes()[1:]
                answers = {}
                senders = [threading.Thread(target=lambda p=p: answers.__setitem__(p, send(ports[p], request)))
                           for p in ports]
                for t in senders:
                    t.start()
                for t in senders:
                    t.join()
                outcome = {p: (answers[p], apps[p].take()) for p in ports}
                whole = {p: [a for a in map(asked, sent) if a] for p, (_, sent) in outcome.items()}
                table.append(f"{name:42}" + "".join(
                    f" {p} {outcome[p][0]:>7} {'FORWARDED' if whole[p] else '-':9}" for p in ports))
                peers = [whole["nginx"], whole["haproxy"]]
                if whole["fairlead"] and not any(peers):
                    failures.append(f"{name}: fairlead forwarded what nginx and HAProxy both refused")
                elif whole["fairlead"] and all(peers):
                    if len({x[0] for x in [whole["fairlead"]] + peers}) > 1:
                        failures.append(f"{name}: the app is asked different things: {whole}")
                elif not whole["fairlead"] and any(peers) and name not in STRICTER:
                    table[-1] += "   (fairlead stricter, no reason given)"
            print("\n" + "\n".join(table), file=sys.stderr)
            unexplained = [line for line in table if "no reason given" in line]
            self.assertEqual(failures, [])
            self.assertEqual(unexplained, [], "fairlead refuses these while a peer forwards them: say why in STRICTER")
        finally:
            statuses = {child.name: child.stop() for child in children}
        # Under the sanitizers, a leak or an error found at exit shows only here.
        self.assertEqual(statuses["fairlead"], 0, children[0].tail("stderr"))

    def start_proxies(self, app_ports: dict[str, int], ports: dict[str, int]) -> list[Child]:
        fl = WORK_DIR / "fairlead.yaml"
        fl.write_text(f"listeners: [{{ name: public, address: 127.0.0.1:{ports['fairlead']} }}]\n"
                      f"clusters: [{{ name: app, endpoints: [{{ address: 127.0.0.1:{app_ports['fairlead']} }}], retries: {{ attempts: 0 }} }}]\n"
                      f"admin: {{ address: 127.0.0.1:{free_port()} }}\n"
                      "limits: { max_request_header_bytes: 8KiB }\nlog: { access: off }\n")
        ng = WORK_DIR / "nginx"
        ng.mkdir()
        (ng / "nginx.conf").write_text(
            f"worker_processes 1; error_log {ng}/error.log; pid {ng}/nginx.pid;\nevents {{}}\n"
            f"http {{ access_log off; client_body_temp_path {ng}; proxy_temp_path {ng};\n"
            f"  upstream app {{ server 127.0.0.1:{app_ports['nginx']}; }}\n"
            f"  server {{ listen 127.0.0.1:{ports['nginx']}; large_client_header_buffers 4 8k;\n"
            "    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_request_buffering off; } } }\n")
        ha = WORK_DIR / "haproxy.cfg"
        ha.write_text("defaults\n  mode http\n  timeout connect 2s\n  timeout client 3s\n  timeout server 3s\n"
                      "  retries 0\n  option http-server-close\n"
                      f"frontend f\n  bind 127.0.0.1:{ports['haproxy']}\n  default_backend b\n"
                      f"backend b\n  server app 127.0.0.1:{app_ports['haproxy']}\n")
        children = [
            Child("fairlead", [str(FAIRLEAD), "-c", str(fl)], WORK_DIR, dict(os.environ), WORK_DIR),
            Child("nginx", ["/usr/sbin/nginx", "-p", str(ng), "-c", str(ng / "nginx.conf"), "-g", "daemon off;"],
                  WORK_DIR, dict(os.environ), WORK_DIR),
            Child("haproxy", ["/usr/sbin/haproxy", "-db", "-f", str(ha)], WORK_DIR, dict(os.environ), WORK_DIR),
        ]
        deadline = time.monotonic() + 20
        for port in ports.values():
            while True:
                for child in children:
                    child.check_running()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
        return children


CORPUS: Path


def configure(fairlead: Path, app_dir: Path, work_dir: Path) -> None:
    global FAIRLEAD, APP_DIR, WORK_DIR, CORPUS
    FAIRLEAD, APP_DIR, WORK_DIR = fairlead, app_dir, work_dir
    CORPUS = app_dir.parent.parent / "tests" / "fuzz" / "corpus" / "request_head"


if __name__ == "__main__":
    run_e2e("fairlead-diff-", configure)

#!/usr/bin/python3
"""Open N keep-alive client connections, send one GET on each, read the answer, keep them open.

Used by bench/run for scenario 4 (memory per idle connection). Standard library only.

Protocol with the driver (stdout is JSON lines, stdin is commands):
  1. opens --count connections (at most --parallel handshakes/requests in flight at once, so the
     listen backlog never overflows), prints {"event": "ready", "ok": .., "errors": .., ...};
  2. on a line "check" on stdin, prints {"event": "check", "open": ..} (connections still open);
  3. on stdin EOF, a line "quit", or after --hold seconds, closes everything and exits.
Every phase has a deadline: the whole process never lives longer than --connect-deadline + --hold.
"""
import argparse
import errno
import json
import os
import selectors
import socket
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", default="/")
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--parallel", type=int, default=256)
    ap.add_argument("--connect-deadline", type=float, default=90.0)
    ap.add_argument("--hold", type=float, default=120.0)
    a = ap.parse_args()

    request = (f"GET {a.path} HTTP/1.1\r\nHost: {a.host}:{a.port}\r\nUser-Agent: fairlead-bench-idle\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    established = []          # sockets that got a full 200 response and are now idle
    errors = 0
    kinds: dict[str, int] = {}
    started = 0
    inflight = 0
    bufs: dict[int, bytearray] = {}
    t0 = time.monotonic()
    deadline = t0 + a.connect_deadline

    def fail(sock, kind):
        nonlocal errors, inflight
        errors += 1
        kinds[kind] = kinds.get(kind, 0) + 1
        try:
            sel.unregister(sock)
        except (KeyError, ValueError):
            pass
        bufs.pop(sock.fileno(), None)
        sock.close()
        inflight -= 1

    while (started < a.count or inflight > 0) and time.monotonic() < deadline:
        while started < a.count and inflight < a.parallel:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            started += 1
            inflight += 1
            rc = s.connect_ex((a.host, a.port))
            if rc not in (0, errno.EINPROGRESS):
                fail(s, errno.errorcode.get(rc, str(rc)))
                continue
            sel.register(s, selectors.EVENT_WRITE, "connect")
        for key, _ in sel.select(timeout=0.5):
            s = key.fileobj
            if key.data == "connect":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    fail(s, errno.errorcode.get(err, str(err)))
                    continue
                try:
                    s.send(request)   # a few dozen bytes: always fits the socket buffer
                except OSError as e:
                    fail(s, type(e).__name__)
                    continue
                bufs[s.fileno()] = bytearray()
                sel.modify(s, selectors.EVENT_READ, "response")
            else:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError as e:
                    fail(s, type(e).__name__)
                    continue
                if not chunk:
                    fail(s, "closed")
                    continue
                buf = bufs[s.fileno()]
                buf += chunk
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    continue
                head = bytes(buf[:end]).decode("latin-1").split("\r\n")
                length = 0
                for line in head[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                if len(buf) < end + 4 + length:
                    continue
                status = head[0].split(" ")[1] if " " in head[0] else "?"
                if status != "200":
                    fail(s, "status " + status)
                    continue
                sel.unregister(s)
                del bufs[s.fileno()]
                inflight -= 1
                established.append(s)
    # Whatever is still in flight at the deadline counts as failed.
    for key in list(sel.get_map().values()):
        fail(key.fileobj, "deadline")
    elapsed = time.monotonic() - t0
    print(json.dumps({"event": "ready", "requested": a.count, "ok": len(established), "errors": errors,
                      "kinds": kinds, "seconds": round(elapsed, 3)}), flush=True)

    hold_until = time.monotonic() + a.hold
    stdin_fd = sys.stdin.fileno()
    os.set_blocking(stdin_fd, False)
    sel2 = selectors.DefaultSelector()
    sel2.register(stdin_fd, selectors.EVENT_READ)
    pending = b""
    done = False
    while not done and time.monotonic() < hold_until:
        if not sel2.select(timeout=min(1.0, max(0.0, hold_until - time.monotonic()))):
            continue
        try:
            data = os.read(stdin_fd, 4096)
        except BlockingIOError:
            continue
        if not data:
            break
        pending += data
        while b"\n" in pending:
            line, pending = pending.split(b"\n", 1)
            cmd = line.strip().decode()
            if cmd == "check":
                still = 0
                poll = selectors.DefaultSelector()
                for s in established:
                    poll.register(s, selectors.EVENT_READ)
                readable = {k.fileobj for k, _ in poll.select(timeout=0)}
                poll.close()
                for s in established:
                    if s not in readable:
                        still += 1
                        continue
                    try:   # readable while idle: either EOF (closed by the server) or stray bytes
                        if s.recv(1, socket.MSG_PEEK):
                            still += 1
                    except OSError:
                        pass
                print(json.dumps({"event": "check", "open": still}), flush=True)
            elif cmd == "quit":
                done = True
    for s in established:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

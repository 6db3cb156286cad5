#!/usr/bin/python3
"""End-to-end: a rolling deploy behind a load balancer loses no request.

    /usr/bin/python3 tests/e2e/rolling_deploy_test.py --fairlead build/proxy/fairlead --app-dir examples/app

Two "tasks", each one fairlead in PID-1 mode with config/container.yaml (the single-container
image's config) supervising the example app, stand behind HAProxy, which plays the ALB: it
health-checks each task's /ready on the admin port, sends traffic only to tasks that pass, and does
not retry a failed request (an ALB does not either). Under a steady, bounded load through it, the
deploy goes as ECS runs it: start task B, wait until the load balancer finds it healthy, SIGTERM task
A, wait for A to exit. Then: no request failed, B served some, A served some after its SIGTERM
(the drain kept serving), /ready said "draining" at once, and A's app got its stop signal only
after A's last request had finished, a slow one sent straight to A after its SIGTERM included.
"""

import http.client
import json
import os
import signal
import sys
import threading
import time
import unittest
from datetime import datetime, timezone
from pathlib import Path

import yaml

from processes import Child, ReservedPort, free_port, get_status, run_e2e, wait_until_ok

FAIRLEAD: Path
APP_DIR: Path
WORK_DIR: Path
CONFIG: Path

HEALTH_INTERVAL_S = 1  # the stand-in ALB's health check: every second, out after 2 failures
LOAD_THREADS = 6       # fast requests, each thread about 20 a second
SLOW_THREADS = 2       # 800 ms requests, so that some are in flight when task A gets SIGTERM
MAX_REQUESTS_PER_THREAD = 5000
# fairlead's log lines and access-log start times are to the millisecond, cut, not rounded: an
# order between them holds to within that.
LOG_RESOLUTION_S = 0.001


class Task:
    """One fairlead + app pair, as the single-container image runs it."""

    def __init__(self, name: str, db: Path):
        """Its ports are fixed before it starts, as a target group knows a task's before it runs."""
        self.name, self.db = name, db
        self._reserved = [ReservedPort() for _ in range(3)]
        self.port, self.admin_port, self.app_port = (r.port for r in self._reserved)
        self.child: Child | None = None

    def start(self) -> Child:
        for reserved in self._reserved:
            reserved.release()
        env = dict(os.environ, TZ="UTC", FAIRLEAD_LISTEN=f"127.0.0.1:{self.port}",
                   FAIRLEAD_ADMIN_ADDRESS=f"127.0.0.1:{self.admin_port}", APP_PORT=str(self.app_port),
                   FAIRLEAD_STATIC_ROOT=str(APP_DIR / "frontend" / "dist"), APP_DB=str(self.db),
                   PYTHONDONTWRITEBYTECODE="1")
        env.pop("DATABASE_URL", None)
        env.pop("FAIRLEAD_ADMIN_TOKEN", None)
        self.child = Child(f"task-{self.name}", [str(FAIRLEAD), "-c", str(CONFIG), "--",
                                                 "/usr/bin/python3", "-m", "uvicorn", "app.main:app",
                                                 "--app-dir", str(APP_DIR), "--host", "127.0.0.1",
                                                 "--port", str(self.app_port), "--no-proxy-headers"],
                           WORK_DIR, env, WORK_DIR)
        return self.child

    def wait_ready(self) -> None:
        wait_until_ok(self.admin_port, "/ready", [self.child], f"task {self.name}")

    def access_log(self) -> list[dict]:
        """Its whole lines: a running task may be half-way through writing the last one."""
        entries = []
        for line in self.child.stdout_path.read_text(errors="replace").split("\n")[:-1]:
            if line.startswith("{"):
                entries.append(json.loads(line))
        return entries

    def finished_at(self, entry: dict) -> float:
        started = datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        return started.timestamp() + entry["duration_ms"] / 1000

    def app_stop_signal_at(self) -> float:
        """When fairlead sent its app the stop signal, from fairlead's log line saying so (UTC)."""
        for line in self.child.stderr_path.read_text(errors="replace").splitlines():
            if "app: stopping pid" in line:
                stamp = line[1:line.index("]")]
                return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()
        raise AssertionError(f"task {self.name} never logged stopping its app:\n{self.child.tail('stderr')}")


class LoadBalancer:
    """HAProxy as the ALB: health checks on each task's /ready, no retries, keep-alive both ways."""

    def __init__(self, tasks: list[Task]):
        self.port, self.stats_port = free_port(), free_port()
        servers = "".join(
            f"  server {t.name} 127.0.0.1:{t.port} check port {t.admin_port} inter {HEALTH_INTERVAL_S}s fall 2 rise 2\n"
            for t in tasks)
        config = WORK_DIR / "haproxy.cfg"
        config.write_text(
            "global\n  maxconn 1000\n"
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n"
            "  timeout http-keep-alive 60s\n  retries 0\n"
            f"frontend alb\n  bind 127.0.0.1:{self.port}\n  default_backend tasks\n"
            f"frontend stats\n  bind 127.0.0.1:{self.stats_port}\n  stats enable\n  stats uri /stats\n"
            "backend tasks\n  balance roundrobin\n  option httpchk GET /ready\n  http-check expect status 200\n"
            + servers)
        self.child = Child("haproxy", ["/usr/sbin/haproxy", "-db", "-f", str(config)], WORK_DIR, dict(os.environ),
                           WORK_DIR)

    def states(self) -> dict[str, str]:
        """Each server's state (UP, DOWN, ...) from HAProxy's CSV statistics."""
        conn = http.client.HTTPConnection("127.0.0.1", self.stats_port, timeout=2)
        try:
            conn.request("GET", "/stats;csv")
            lines = conn.getresponse().read().decode().splitlines()
        except (OSError, http.client.HTTPException):
            return {}
        finally:
            conn.close()
        header = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(header, line.split(","))) for line in lines[1:] if line]
        return {r["svname"]: r["status"] for r in rows if r["pxname"] == "tasks" and r["svname"] != "BACKEND"}

    def wait_for(self, wanted: dict[str, str], timeout_s: float = 30) -> None:
        """Until each named server is in the wanted state ("UP 1/2", going down, counts as UP)."""
        deadline = time.monotonic() + timeout_s
        while True:
            states = self.states()
            if states and all(states.get(name, "").split(" ")[0] == state for name, state in wanted.items()):
                return
            self.child.check_running()
            if time.monotonic() > deadline:
                raise TimeoutError(f"HAProxy: wanted {wanted}, has {states}")
            time.sleep(0.1)


class Load:
    """Bounded, steady load through the load balancer; every outcome is counted."""

    def __init__(self, port: int):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sent = self.succeeded = 0
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(i, False), daemon=True) for i in range(LOAD_THREADS)]
        self.threads += [threading.Thread(target=self._run, args=(i, True), daemon=True) for i in range(SLOW_THREADS)]

    def __enter__(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)

    def _run(self, index: int, slow: bool) -> None:
        requests = [("GET", "/api/slow?ms=800", None)] if slow else [
            ("GET", "/api/items", None), ("POST", "/api/items", {"name": f"load {index}"}),
            ("GET", "/", None), ("GET", "/api/echo?from=load", None)]
        conn = None
        for n in range(MAX_REQUESTS_PER_THREAD):
            if self.stop.is_set():
                break
            method, path, payload = requests[n % len(requests)]
            body = json.dumps(payload).encode() if payload else None
            headers = {"Content-Type": "application/json"} if body else {}
            if path == "/":
                headers["Accept"] = "text/html"
            outcome = None
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                if not 200 <= resp.status < 300:
                    outcome = f"{method} {path}: {resp.status}"
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as e:
                outcome = f"{method} {path}: {type(e).__name__}: {e}"
                conn.close()
                conn = None
            with self.lock:
                self.sent += 1
                if outcome is None:
                    self.succeeded += 1
                else:
                    self.failures.append(outcome)
            if not slow:
                self.stop.wait(0.05)
        if conn is not None:
            conn.close()


def drain_delay_s() -> int:
    delay = yaml.safe_load(CONFIG.read_text())["drain"]["delay"]
    if not delay.endswith("s") or not delay[:-1].isdigit():
        raise ValueError(f"{CONFIG}: drain.delay {delay!r}: this test reads whole seconds")
    return int(delay[:-1])


class Straggler(threading.Thread):
    """One request straight to a task, on a thread of its own."""

    def __init__(self, port: int, path: str):
        super().__init__(daemon=True)
        self.port, self.path = port, path
        self.status: int | None = None
        self.took = 0.0
        self.start()

    def run(self) -> None:
        started = time.time()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", self.path)
            resp = conn.getresponse()
            resp.read()
            self.status = resp.status
        except (OSError, http.client.HTTPException) as e:
            print(f"straggler: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            conn.close()
        self.took = time.time() - started


class RollingDeploy(unittest.TestCase):
    def test_replacing_a_task_under_load_loses_nothing(self):
        db = WORK_DIR / "items.db"  # one database for both tasks, as RDS is
        a = Task("a", db)
        children = [a.start()]
        try:
            a.wait_ready()
            b = Task("b", db)  # its ports are in the load balancer's config before it starts
            lb = LoadBalancer([a, b])
            children.append(lb.child)
            lb.wait_for({"a": "UP", "b": "DOWN"})

            with Load(lb.port) as load:
                time.sleep(2)
                children.append(b.start())
                b.wait_ready()
                lb.wait_for({"b": "UP"})
                time.sleep(2)
                sigterm_at = time.time()
                os.kill(a.child.proc.pid, signal.SIGTERM)
                draining = self._ready_answer(a)
                served_while_draining = get_status(a.port, "/healthz")
                # A request still running when the listeners close (at drain.delay): the drain must
                # let it finish, and only then stop the app under it.
                straggler_ms = drain_delay_s() * 1000 + 2000
                straggler = Straggler(a.port, f"/api/slow?ms={straggler_ms}")
                a_status = a.child.stop()
                straggler.join()
                a_exited_at = time.time()
                time.sleep(2)

            print(f"\nrolling deploy: {load.sent} requests sent, {load.succeeded} succeeded, "
                  f"{len(load.failures)} failed; task A exited {a_exited_at - sigterm_at:.1f} s after SIGTERM "
                  f"with status {a_status}", file=sys.stderr)
            self.assertEqual(load.failures, [])
            self.assertEqual(load.succeeded, load.sent)
            self.assertGreater(load.sent, 300)
            self.assertEqual(a_status, 0)
            # From the first moment of the drain the load balancer is told to stop sending, while
            # what it still sends is served.
            self.assertEqual(draining, (503, "not ready: draining"))
            self.assertEqual(served_while_draining, 200)

            # One access-log line per request, the two asked of task A directly included. Task B
            # still runs, and its access log is written by a thread of its own after the answer
            # has gone: its last lines may land just after the load's last answer.
            expected_lines = load.sent + 2
            a_log, b_log = a.access_log(), b.access_log()
            deadline = time.monotonic() + 10
            while len(a_log) + len(b_log) < expected_lines and time.monotonic() < deadline:
                time.sleep(0.05)
                b_log = b.access_log()
            self.assertTrue(b_log, "task B served nothing")
            self.assertEqual(len(a_log) + len(b_log), expected_lines)
            after_sigterm = [e for e in a_log if a.finished_at(e) > sigterm_at]
            self.assertTrue(after_sigterm, "task A finished no request after its SIGTERM: the drain was not tested")
            last_request_done = max(a.finished_at(e) for e in a_log)
            app_signalled = a.app_stop_signal_at() + LOG_RESOLUTION_S
            print(f"task A: {len(a_log)} requests, {len(after_sigterm)} finished after SIGTERM, all before its "
                  f"app got SIGTERM; task B: {len(b_log)} requests", file=sys.stderr)
            self.assertLessEqual(last_request_done, app_signalled)
            self.assertEqual(straggler.status, 200)
            straggler_logged = [e for e in a_log if e["path"] == f"/api/slow?ms={straggler_ms}"]
            self.assertEqual(len(straggler_logged), 1)
            self.assertLessEqual(a.finished_at(straggler_logged[0]), app_signalled)
            print(f"a request sent to task A right after its SIGTERM took {straggler.took:.1f} s; A's app got "
                  f"SIGTERM after it had finished", file=sys.stderr)
        finally:
            for child in reversed(children):
                child.stop()


    @staticmethod
    def _ready_answer(task: Task) -> tuple[int, str]:
        """/ready on the task's admin port, asked once fairlead has logged that it took the SIGTERM."""
        deadline = time.monotonic() + 5
        while "SIGTERM: draining" not in task.child.stderr_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task.name} did not log its SIGTERM:\n{task.child.tail('stderr')}")
            time.sleep(0.01)
        conn = http.client.HTTPConnection("127.0.0.1", task.admin_port, timeout=2)
        try:
            conn.request("GET", "/ready")
            resp = conn.getresponse()
            return resp.status, resp.read().decode().strip()
        finally:
            conn.close()


def configure(fairlead: Path, app_dir: Path, work_dir: Path) -> None:
    global FAIRLEAD, APP_DIR, WORK_DIR, CONFIG
    FAIRLEAD, APP_DIR, WORK_DIR = fairlead, app_dir, work_dir
    CONFIG = APP_DIR.parent.parent / "config" / "container.yaml"


if __name__ == "__main__":
    run_e2e("fairlead-deploy-", configure)

#!/usr/bin/python3
"""End-to-end: the example app on a real PostgreSQL, through a real fairlead binary.

    /usr/bin/python3 tests/e2e/postgres_test.py --fairlead build/proxy/fairlead --app-dir examples/app

The deployment's shape in small: the app reads DATABASE_URL (RDS in deploy/, here a throwaway
cluster made by initdb in a temporary directory, listening on 127.0.0.1 only, no Unix socket), and
fairlead sits in front of it. PostgreSQL refuses to run as root: as root, the test runs it as
`nobody`, and is skipped where nobody cannot enter / (see unprivileged()). Needs Debian's postgresql, python3-psycopg and python3-psycopg-pool
(scripts/install-deps).
"""

import glob
import http.client
import json
import os
import pwd
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

import psycopg

from processes import STARTUP_TIMEOUT_S, Child, free_port, run_e2e, wait_until_ok

FAIRLEAD: Path
APP_DIR: Path
WORK_DIR: Path


def postgres_bin(name: str) -> str:
    """The newest Debian PostgreSQL's NAME (initdb, postgres): they are not on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"no /usr/lib/postgresql/*/bin/{name}: install Debian's postgresql (scripts/install-deps)")
    return found[-1]


def unprivileged(data: Path) -> dict:
    """The Popen arguments that start PostgreSQL's programs as a user it accepts. Skips the tests
    where there is none."""
    if os.geteuid() != 0:
        return {}
    nobody = pwd.getpwnam("nobody")
    os.chown(data, nobody.pw_uid, nobody.pw_gid)
    data.parent.chmod(0o711)  # nobody must reach pgdata inside the test's 0700 directory
    as_nobody = {"user": nobody.pw_uid, "group": nobody.pw_gid, "extra_groups": []}
    try:
        subprocess.run([postgres_bin("initdb"), "--version"], check=True, capture_output=True, **as_nobody)
    except PermissionError:
        # A root whose "/" only root may enter (a chroot made with mktemp -d, as fresh-machine's):
        # no user but root can open any path, and PostgreSQL refuses root, a real uid other than
        # its effective one, and capabilities for its own checks (access(2) drops them); a chroot
        # may not make a user namespace. Nothing here can run it.
        raise unittest.SkipTest("PostgreSQL cannot run here: only root may enter / "
                                f"(mode {os.stat('/').st_mode & 0o777:o}), and PostgreSQL refuses to run as root")
    return as_nobody


class Cluster:
    """A PostgreSQL cluster of its own: initdb, then postgres in the foreground as a Child."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"postgresql://fairlead@127.0.0.1:{self.port}/app"
        data = directory / "pgdata"
        data.mkdir()
        as_user = unprivileged(data)
        initdb = Child("initdb", [postgres_bin("initdb"), "-D", str(data), "--auth=trust",
                                  "--username=fairlead", "--encoding=UTF8", "--no-sync"],
                       directory, dict(os.environ), WORK_DIR, **as_user)
        if initdb.proc.wait(120) != 0:
            raise RuntimeError(f"initdb failed:\n{initdb.tail('stderr')}")
        self.argv = [postgres_bin("postgres"), "-D", str(data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
                     "-c", "unix_socket_directories=", "-c", "fsync=off"]
        self.directory, self.as_user = directory, as_user
        self.start()
        with psycopg.connect(f"postgresql://fairlead@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE app")

    def start(self) -> None:
        self.server = Child("postgres", self.argv, self.directory, dict(os.environ), WORK_DIR, **self.as_user)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            self.server.check_running()
            try:
                psycopg.connect(f"postgresql://fairlead@127.0.0.1:{self.port}/postgres", connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def restart(self) -> None:
        """A fast shutdown (SIGINT: sessions are cut, as in a failover), then the same server again."""
        os.kill(self.server.proc.pid, signal.SIGINT)
        self.server.proc.wait(STARTUP_TIMEOUT_S)
        self.start()

    def rows(self) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute("SELECT id, name, description FROM items ORDER BY id").fetchall()


class ExampleAppOnPostgres(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.children = []
        try:
            cls.db = Cluster(WORK_DIR)
            cls.children.append(cls.db.server)
            app_port, cls.port, admin_port = free_port(), free_port(), free_port()
            env = dict(os.environ, DATABASE_URL=cls.db.url, PYTHONDONTWRITEBYTECODE="1")
            env.pop("APP_DB", None)
            app = Child("uvicorn", ["/usr/bin/python3", "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
                                    "--port", str(app_port), "--no-proxy-headers"], APP_DIR, env, WORK_DIR)
            cls.children.insert(0, app)
            wait_until_ok(app_port, "/healthz", cls.children, "the example app on PostgreSQL")
            config = WORK_DIR / "fairlead.yaml"
            config.write_text(
                f"listeners: [{{ name: public, address: 127.0.0.1:{cls.port} }}]\n"
                "clusters:\n"
                f"  - {{ name: app, endpoints: [{{ address: 127.0.0.1:{app_port} }}], health_check: {{ path: /healthz }} }}\n"
                f"admin: {{ address: 127.0.0.1:{admin_port} }}\n"
                "app: { ready_cluster: app }\n")
            cls.fairlead = Child("fairlead", [str(FAIRLEAD), "-c", str(config)], WORK_DIR, dict(os.environ), WORK_DIR)
            cls.children.insert(0, cls.fairlead)
            wait_until_ok(admin_port, "/ready", cls.children, "fairlead in front of the app")
        except BaseException:
            cls.stopChildren()
            raise

    @classmethod
    def tearDownClass(cls):
        status = cls.stopChildren()
        if status != 0:
            raise AssertionError(f"fairlead exited with status {status} after SIGTERM")

    @classmethod
    def stopChildren(cls) -> int | None:
        """fairlead, the app, then the database: the order of a task's stop. Returns fairlead's status."""
        statuses = {child.name: child.stop() for child in cls.children}
        if hasattr(cls, "db"):
            cls.db.server.stop()  # the one a restart started, if any
        return statuses.get("fairlead")

    def call(self, method: str, path: str, payload=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        self.addCleanup(conn.close)
        body = json.dumps(payload).encode() if payload is not None else None
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, (json.loads(data) if data else None)

    def test_items_are_stored_in_postgresql(self):
        created = [self.call("POST", "/api/items", {"name": f"item {i}", "description": "é ✓"}) for i in range(20)]
        self.assertEqual([status for status, _ in created], [201] * 20)
        ids = [item["id"] for _, item in created]
        self.assertEqual(self.call("PUT", f"/api/items/{ids[0]}", {"name": "renamed"})[0], 200)
        self.assertEqual(self.call("DELETE", f"/api/items/{ids[1]}")[0], 204)
        self.assertEqual(self.call("DELETE", f"/api/items/{ids[1]}")[0], 404)
        self.assertEqual(self.call("GET", f"/api/items/{ids[1]}")[0], 404)

        status, listed = self.call("GET", "/api/items")
        self.assertEqual(status, 200)
        expected = [(ids[0], "renamed", None)] + [(i, f"item {n}", "é ✓") for n, i in enumerate(ids) if n >= 2]
        mine = set(ids)  # the other test's items may be there too
        self.assertEqual([(i["id"], i["name"], i["description"]) for i in listed if i["id"] in mine], expected)
        # What PostgreSQL itself holds, read past the app: the app did not fall back to SQLite.
        self.assertEqual([row for row in self.db.rows() if row[0] in mine], expected)
        print(f"\n{len(created)} items created through fairlead, {len(expected)} read back from PostgreSQL",
              file=sys.stderr)

    def test_a_database_restart_fails_no_request(self):
        """The pool's connections all die with the server; the next request still succeeds."""
        for n in range(16):  # several pooled connections in use, then idle
            self.assertEqual(self.call("POST", "/api/items", {"name": f"before restart {n}"})[0], 201)
        self.db.restart()
        status, item = self.call("POST", "/api/items", {"name": "after restart"})
        self.assertEqual(status, 201)
        self.assertEqual(self.call("GET", f"/api/items/{item['id']}")[0], 200)

    def test_concurrent_writers_get_distinct_ids(self):
        """Requests on many of the app's threads at once, through its connection pool."""
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda n: self.call("POST", "/api/items", {"name": f"c{n}"}), range(64)))
        self.assertEqual({status for status, _ in results}, {201})
        ids = [item["id"] for _, item in results]
        self.assertEqual(len(set(ids)), 64)
        stored = {row[0] for row in self.db.rows()}
        self.assertTrue(set(ids) <= stored)


def configure(fairlead: Path, app_dir: Path, work_dir: Path) -> None:
    global FAIRLEAD, APP_DIR, WORK_DIR
    FAIRLEAD, APP_DIR, WORK_DIR = fairlead, app_dir, work_dir


if __name__ == "__main__":
    run_e2e("fairlead-pg-", configure)

"""Child processes for the end-to-end tests: started with their output in files, waited on by
condition (a port answers) with a deadline, and stopped by their PID."""

import argparse
import ctypes
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Callable

STARTUP_TIMEOUT_S = 30
STOP_TIMEOUT_S = 30  # fairlead drains on SIGTERM; with nothing in flight it should be quick
SKIPPED = 77  # the exit status of a file whose every test was skipped: ctest's SKIP_RETURN_CODE


def free_port() -> int:
    """A loopback port that was free a moment ago (bind port 0, read it back, close)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReservedPort:
    """A loopback port held (bound, not listening) until release(): for a server that starts later
    while something already probes its port, as a load balancer's health check does. Were it free
    meanwhile, a test running alongside could be handed it, and the probes with it."""

    def __init__(self):
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]

    def release(self) -> int:
        self._socket.close()
        return self.port


def die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM if this test dies first (e.g. killed at ctest's timeout)."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Child:
    """A child process whose output goes to NAME.stdout and NAME.stderr in log_dir."""

    def __init__(self, name: str, argv: list[str], cwd: Path, env: dict[str, str], log_dir: Path, **popen):
        self.name = name
        self.stdout_path = log_dir / f"{name}.stdout"
        self.stderr_path = log_dir / f"{name}.stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=err, preexec_fn=die_with_parent, **popen)

    def check_running(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited early with status {self.proc.returncode}:\n"
                               f"{self.tail('stderr', 20)}")

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S. Returns the exit status (-N: killed by signal N)."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print(f"{self.name} (pid {self.proc.pid}) ignored SIGTERM for {STOP_TIMEOUT_S}s; SIGKILL",
                      file=sys.stderr)
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def tail(self, which: str, lines: int = 60) -> str:
        path = self.stderr_path if which == "stderr" else self.stdout_path
        try:
            text = path.read_text(errors="replace")
        except OSError as e:
            return f"({e})"
        return "\n".join(text.splitlines()[-lines:]) or "(empty)"


def get_status(port: int, path: str) -> int | None:
    """Status of GET path on port, or None when nothing answers yet."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def wait_until_ok(port: int, path: str, children: list[Child], what: str,
                  timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    """Polls GET path until it answers 200; fails at the deadline or as soon as a child has died."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        for child in children:
            child.check_running()
        last = get_status(port, path)
        if last == 200:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: GET {path} on port {port} not 200 after {timeout_s}s "
                               f"(last answer: {last})")
        time.sleep(0.05)


def run_e2e(prefix: str, configure: Callable[[Path, Path, Path], None]) -> None:
    """The main of an end-to-end test file: parses --fairlead and --app-dir, hands them and a fresh
    work directory to configure(fairlead, app_dir, work_dir), runs the file's test cases (other
    arguments go to unittest), prints the children's logs when one failed, and exits with the result."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--fairlead", required=True, type=Path)
    parser.add_argument("--app-dir", required=True, type=Path)
    args, rest = parser.parse_known_args()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work_dir = Path(tmp)
        configure(args.fairlead.resolve(), args.app_dir.resolve(), work_dir)
        result = unittest.main(module="__main__", argv=[sys.argv[0], *rest], exit=False).result
        if not result.wasSuccessful():
            for log in sorted(work_dir.glob("*.std*")):
                print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}", file=sys.stderr)
    # Skipped all: each test (counted as run), or the whole class from setUpClass (none run).
    if result.wasSuccessful() and result.skipped and result.testsRun in (0, len(result.skipped)):
        sys.exit(SKIPPED)
    sys.exit(0 if result.wasSuccessful() and result.testsRun > 0 else 1)

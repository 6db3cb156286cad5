"""The processes the suite starts (proxies, origin, clients): started pinned, tracked and stopped by PID,
and what /proc says about them (CPU ticks, memory, open connections)."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from .common import PROCS, log


class Proc:
    """A process started by the suite: pinned with taskset, tracked by PID, stopped by PID."""

    def __init__(self, name, argv, cpus, logfile, graceful=signal.SIGTERM):
        self.name, self.argv, self.cpus, self.logfile, self.graceful = name, argv, cpus, logfile, graceful
        self.p = None
        self.children = []

    def start(self):
        out = open(self.logfile, "ab")
        self.p = subprocess.Popen(["taskset", "-c", self.cpus] + self.argv, stdin=subprocess.DEVNULL,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        PROCS.append(self)
        return self

    @property
    def pid(self):
        return self.p.pid

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def worker_pid(self, deadline=10.0):
        """For nginx (master + 1 worker): the worker's PID; for the others, the process itself."""
        if not self.name.startswith("nginx") and not self.name.startswith("origin"):
            return self.pid
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            kids = child_pids(self.pid)
            if kids:
                self.children = kids
                return kids[0]
            if not self.alive():
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: no worker process after {deadline}s; see {self.logfile}")

    def stop(self, timeout=4.0):
        if self.p is None:
            return
        if self.p.poll() is None:
            self.children = self.children or child_pids(self.pid)
            try:
                os.kill(self.pid, self.graceful)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout=timeout * 0.3)
            except subprocess.TimeoutExpired:
                try:   # fairlead: SIGQUIT skips the rest of the drain (a second SIGTERM does not)
                    os.kill(self.pid, signal.SIGQUIT if self.name.startswith("fairlead") else self.graceful)
                except ProcessLookupError:
                    pass
            try:
                self.p.wait(timeout=timeout * 0.7)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {self.pid}) did not stop in {timeout}s (two stop signals): SIGKILL")
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait(timeout=5)
        for c in self.children:   # nginx workers outliving a killed master
            if pid_comm(c) == "nginx":
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self in PROCS:
            PROCS.remove(self)


def child_pids(pid):
    kids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        if int(st.rsplit(")", 1)[1].split()[1]) == pid:
            kids.append(int(d))
    return sorted(kids)


def pid_comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def stop_all():
    for p in list(reversed(PROCS)):
        try:
            p.stop()
        except Exception as e:  # noqa: BLE001 - keep stopping the others
            log(f"stopping {p.name}: {e}")


def on_signal(signum, _frame):
    log(f"signal {signum}: stopping")
    sys.exit(128 + signum)   # runs the atexit handler, which stops every process by PID


def cpu_ticks(pid):
    """utime + stime of a whole process (all threads), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def private_kib(pid):
    """USS: Private_Clean + Private_Dirty from smaps_rollup, in KiB."""
    total = 0
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def open_server_conns(port):
    """Sockets on 127.0.0.1:port (the server side) that are ESTABLISHED or CLOSE_WAIT."""
    hexport = f"{port:04X}"
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1].endswith(":" + hexport) and parts[3] in ("01", "08"):
                n += 1
    return n


def stuck_after_run(port, before, deadline=2.0):
    """Server-side connections left open after the client went away. A proxy closes each client
    connection when it sees the client's FIN; one still open (or in CLOSE_WAIT) after `deadline`
    is a connection the proxy stopped reading: a stall."""
    end = time.monotonic() + deadline
    while True:
        left = open_server_conns(port) - before
        if left <= 0 or time.monotonic() > end:
            return max(left, 0)
        time.sleep(0.05)


def wait_port(port, proc=None, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited with {proc.p.returncode}; log:\n{tail(proc.logfile)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not up after {deadline}s" + (f"; log:\n{tail(proc.logfile)}" if proc else ""))


def port_free(port):
    s = socket.socket()
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def tail(path, n=20):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError:
        return "(no log)"


def http_get(port, path="/", timeout=5.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
        return r.status, r.read()


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)

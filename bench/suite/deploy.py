"""Scenario 6, deploy safety: what each proxy loses while it is operated on under a steady load.

Every proxy in turn sits in front of the same app (bench/lib/slow_origin.py: 5 ms answers, idle
keep-alive connections closed after 5 s as uvicorn does), and goes through four phases, each with
a fresh proxy and app:

  reload   20 configuration reloads 400 ms apart, the 10th invalid (each proxy's own way: fairlead
           SIGHUP, nginx SIGHUP, HAProxy master-worker SIGUSR2)
  restart  the app killed and started again 1 s later on the same port
  race     bursts that leave pooled upstream connections idle for about the app's 5 s keep-alive
  stop     the proxy's graceful stop (fairlead SIGTERM, nginx SIGQUIT, HAProxy SIGUSR1) with
           2-second requests in flight, and the load going on for 2 s more, as a load balancer
           still sends while it deregisters the target

The load is bench/lib/steady_client.py (reload, restart, stop) or bench/lib/paced_client.py
(race); every failed request is counted by its kind.
"""
import json
import os
import signal
import threading
import time

from .common import LIB, PORT, PROXIES, PY, log
from .configs import haproxy_conf, nginx_conf, write
from .procs import Proc, run, wait_port

PORT_APP = 19192
PHASES = [
    ("reload", "20 reloads 400 ms apart, the 10th invalid"),
    ("restart", "the app killed, back 1 s later"),
    ("race", "keep-alive race: bursts after ~5 s idle"),
    ("stop", "graceful stop, 2 s requests in flight, load for 2 s more"),
]
KINDS = ("refused", "reset", "5xx", "truncated", "timeout", "other")
RELOADS, INVALID_RELOAD, RELOAD_GAP_S = 20, 10, 0.4
STOP_SIGNAL = {"fairlead": signal.SIGTERM, "nginx": signal.SIGQUIT, "haproxy": signal.SIGUSR1}
RELOAD_SIGNAL = {"fairlead": signal.SIGHUP, "nginx": signal.SIGHUP, "haproxy": signal.SIGUSR2}


def fairlead_deploy_conf(listen, version, valid=True):
    """As config/sidecar.yaml has it: one safe retry, waiting up to 2 s for an app that refuses
    connections, pool idle below the app's 5 s, a drain delay."""
    return f"""# fairlead, scenario 6 (deploy safety), version {version}
workers: 1
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - {{ name: bench, address: 127.0.0.1:{listen} }}
clusters:
  - name: app
    endpoints: [{{ address: 127.0.0.1:{PORT_APP} }}]
    idle_timeout: 4s
    response_timeout: {60 + version}s
    retries: {{ attempts: 1, wait_while_refused: 2s }}
drain: {{ delay: 3s, timeout: 10s, budget: 30s }}
limits: {{ max_connections: 30000 }}
log: {{ level: warn, access: off }}
""" + ("" if valid else "bogus_key: 1\n")


def nginx_deploy_conf(rd, listen, version, valid=True):
    conf = nginx_conf(rd, "nginx-deploy", listen, PORT_APP).replace(
        "keepalive_timeout 75s;", f"keepalive_timeout {75 + version}s;")
    return conf if valid else conf.replace("http {", "http {\n  bogus_directive on;", 1)


def haproxy_deploy_conf(listen, version, valid=True):
    conf = haproxy_conf(listen, PORT_APP).replace("timeout client 300s", f"timeout client {300 + version}s")
    return conf if valid else conf.replace("defaults\n", "defaults\n  bogus-keyword\n", 1)


class DeploySafety:
    def __init__(self, suite):
        self.s = suite
        self.rd = suite.rd

    def run(self):
        targets = [t for t in PROXIES if t not in self.s.a.skip]
        log(f"scenario deploy: {', '.join(p for p, _ in PHASES)} for {', '.join(targets)}")
        for phase, _ in PHASES:
            for t in targets:
                app = self.start_app()
                proxy = None
                try:
                    proxy = self.start_proxy(t)
                    row = getattr(self, f"phase_{phase}")(t, proxy, app)
                finally:
                    if proxy is not None:
                        proxy.stop(timeout=15)
                    app.stop()
                failed = sum(row[k] for k in KINDS)
                row.update(scenario=f"deploy-{phase}", target=t, round=1, failed=failed)
                self.s.add(row)
                log(f"  {phase:8} {t:9}: {row['sent']} requests, {failed} failed "
                    + " ".join(f"{k} {row[k]}" for k in KINDS if row[k]) + (f"; {row['note']}" if row.get("note") else ""))

    # ---- processes

    def start_app(self):
        app = Proc("app", [PY, os.path.join(LIB, "slow_origin.py"), "--port", str(PORT_APP), "--delay-ms", "5",
                           "--keepalive", "5"], self.s.load_cpu, f"{self.rd}/deploy-app.out").start()
        wait_port(PORT_APP, app)
        return app

    def conf(self, target, version, valid=True):
        port = PORT[target]
        if target == "fairlead":
            return write(f"{self.rd}/deploy.yaml", fairlead_deploy_conf(port, version, valid))
        if target == "nginx":
            os.makedirs(f"{self.rd}/nginx-deploy-tmp", exist_ok=True)
            return write(f"{self.rd}/nginx-deploy.conf", nginx_deploy_conf(self.rd, port, version, valid))
        return write(f"{self.rd}/haproxy-deploy.cfg", haproxy_deploy_conf(port, version, valid))

    def start_proxy(self, target):
        conf = self.conf(target, 0)
        if target == "fairlead":
            argv = [self.s.fairlead_bin, "-c", conf]
        elif target == "nginx":
            argv = ["nginx", "-e", f"{self.rd}/nginx-deploy.error.log", "-c", conf, "-g", "daemon off;"]
        else:  # master-worker, the mode HAProxy reloads in
            argv = ["haproxy", "-W", "-f", conf, "-db"]
        p = Proc(target, argv, self.s.proxy_cpu, f"{self.rd}/deploy-{target}.out").start()
        wait_port(PORT[target], p)
        self.s.commands.setdefault(f"deploy {target}", " ".join(argv).replace(self.rd, "RUNDIR"))
        return p

    def load(self, target, duration, slow_percent=0):
        argv = ["taskset", "-c", self.s.load_cpu, PY, os.path.join(LIB, "steady_client.py"), "--port",
                str(PORT[target]), "--rate", "200", "--threads", "50", "--duration", str(duration),
                "--slow-percent", str(slow_percent), "--slow-ms", "2000"]
        self.s.commands.setdefault("deploy load", " ".join(argv).replace(str(PORT[target]), "PORT"))
        return run(argv, timeout=duration + 60)

    @staticmethod
    def totals(res):
        if res.returncode != 0:
            raise RuntimeError(f"steady client failed: {res.stderr}")
        t = json.loads(res.stdout.strip().splitlines()[-1])["total"]
        return dict(sent=t["sent"], retried=t["retried"], **{k: t[k] for k in KINDS})

    def in_background(self, fn):
        out = {}
        th = threading.Thread(target=lambda: out.update(res=fn()), daemon=True)
        th.start()
        return th, out

    # ---- phases

    def phase_reload(self, target, proxy, _app):
        th, out = self.in_background(lambda: self.load(target, 10))
        time.sleep(1)
        for n in range(1, RELOADS + 1):
            self.conf(target, n, valid=n != INVALID_RELOAD)
            os.kill(proxy.pid, RELOAD_SIGNAL[target])
            time.sleep(RELOAD_GAP_S)
        th.join()
        row = self.totals(out["res"])
        row["note"] = "" if proxy.alive() else "the proxy exited"
        return row

    def phase_restart(self, target, _proxy, app):
        th, out = self.in_background(lambda: self.load(target, 8))
        time.sleep(3)
        app.p.send_signal(signal.SIGKILL)
        app.p.wait(timeout=5)
        time.sleep(1)
        app.start()
        wait_port(PORT_APP, app)
        th.join()
        return self.totals(out["res"])

    def phase_race(self, target, _proxy, _app):
        time.sleep(5.5)  # the start-up check's upstream connection has expired everywhere
        argv = ["taskset", "-c", self.s.load_cpu, PY, os.path.join(LIB, "paced_client.py"), "--port",
                str(PORT[target]), "--rate", "200", "--duration", "12", "--threads", "16"]
        res = run(argv, timeout=72)
        if res.returncode != 0:
            raise RuntimeError(f"paced client failed: {res.stderr}")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        row = dict(sent=r["requests"], retried=0, **dict.fromkeys(KINDS, 0))
        row["other"] = r["errors"]
        row["note"] = " ".join(f"{k} {v}" for k, v in r["kinds"].items())
        return row

    def phase_stop(self, target, proxy, _app):
        th, out = self.in_background(lambda: self.load(target, 4, slow_percent=10))
        time.sleep(2)
        signalled = time.monotonic()
        os.kill(proxy.pid, STOP_SIGNAL[target])
        th.join()
        try:
            code = proxy.p.wait(timeout=15)
            took = time.monotonic() - signalled
        except Exception:  # noqa: BLE001 - still running: reported, then stopped by the caller
            code, took = None, None
        row = self.totals(out["res"])
        row["note"] = (f"exit {code} {took:.1f} s after the signal" if code is not None
                       else "still running 15 s after the signal")
        return row

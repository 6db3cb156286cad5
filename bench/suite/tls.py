"""Scenario 7: TLS and static files. HTTPS keep-alive throughput and CPU per request, a new TLS
connection per request, and handshakes alone (full and resumed), fairlead against nginx and
HAProxy with the same certificate, versions, ciphers and groups; then a 10 KiB static file,
fairlead against nginx (HAProxy serves no files)."""
import os
import re
import signal

from .common import CLK_TCK, PORT_ORIGIN, PORT_STATIC, PORT_TLS, PROXIES, ROOT, WRK, die, log
from .configs import (fairlead_static_conf, fairlead_tls_conf, haproxy_tls_conf, nginx_static_conf, nginx_tls_conf,
                      write)
from .procs import Proc, cpu_ticks, run, wait_port


class TlsScenario:
    def __init__(self, suite):
        self.s = suite
        self.rd = suite.rd
        self.tls_dir = os.path.join(self.rd, "tls")

    def certificate(self):
        """The development CA's localhost certificate (ECDSA P-256, chain included), as every proxy reads it."""
        made = run([os.path.join(ROOT, "certs", "make-dev-certs"), "--out", self.tls_dir])
        if made.returncode != 0:
            die(f"certs/make-dev-certs: {made.stderr}")
        cert, key = f"{self.tls_dir}/localhost.crt", f"{self.tls_dir}/localhost.key"
        with open(f"{self.tls_dir}/haproxy.pem", "w") as pem:   # HAProxy wants certificate and key in one file
            pem.write(open(cert).read() + open(key).read())
        return cert, key

    def start(self, target, kind):
        s, rd = self.s, self.rd
        port = PORT_TLS[target] if kind == "tls" else PORT_STATIC[target]
        cert, key = self.cert
        name = f"{target}-{kind}"
        if target == "fairlead":
            text = (fairlead_tls_conf(port, PORT_ORIGIN, cert, key) if kind == "tls"
                    else fairlead_static_conf(port, PORT_ORIGIN, f"{rd}/www"))
            conf = write(f"{rd}/{name}.yaml", text)
            chk = run([s.fairlead_bin, "-c", conf, "--check"])
            if chk.returncode != 0:
                die(f"fairlead --check {conf}:\n{chk.stdout}{chk.stderr}")
            p = Proc(name, [s.fairlead_bin, "-c", conf], s.proxy_cpu, f"{rd}/{name}.out")
        elif target == "nginx":
            os.makedirs(f"{rd}/nginx-{kind}-tmp", exist_ok=True)
            text = (nginx_tls_conf(rd, f"nginx-{kind}", port, PORT_ORIGIN, cert, key) if kind == "tls"
                    else nginx_static_conf(rd, f"nginx-{kind}", port, f"{rd}/www"))
            conf = write(f"{rd}/nginx-{kind}.conf", text)
            p = Proc("nginx", ["nginx", "-e", f"{rd}/nginx-{kind}.error.log", "-c", conf, "-g", "daemon off;"],
                     s.proxy_cpu, f"{rd}/nginx-{kind}.out")
        else:
            conf = write(f"{rd}/haproxy-{kind}.cfg", haproxy_tls_conf(port, PORT_ORIGIN, f"{self.tls_dir}/haproxy.pem"))
            p = Proc("haproxy", ["haproxy", "-f", conf, "-db"], s.proxy_cpu, f"{rd}/haproxy-{kind}.out",
                     graceful=signal.SIGTERM)
        p.start()
        wait_port(port, p)
        p.measured_pid = p.worker_pid()
        check = run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", f"{self.tls_dir}/dev-ca.crt",
                     f"{'https' if kind == 'tls' else 'http'}://localhost:{port}{'/' if kind == 'tls' else '/10k'}"],
                    timeout=10)
        if check.stdout != "200":
            die(f"{name} answered {check.stdout!r} to a first request: {check.stderr}")
        return p

    def handshakes_once(self, kind, target, proc, rnd):
        """Handshakes alone, one connection at a time, no request (openssl s_time): `full` with -new
        (TLS 1.3), `resumed` with -reuse (TLS 1.2: s_time does not resume TLS 1.3 sessions). The
        rate is bound by the round trip and the client; the proxy's CPU per handshake is the figure
        to compare."""
        s = self.s
        d = WRK["tlsnew"]["dur"][1 if s.quick else 0]
        mode = ["-new"] if kind == "full" else ["-reuse", "-tls1_2"]
        argv = ["taskset", "-c", s.load_cpu, "openssl", "s_time", "-connect", f"127.0.0.1:{PORT_TLS[target]}",
                *mode, "-time", str(d)]
        s.commands.setdefault(f"tls-{kind}", " ".join(argv).replace(str(PORT_TLS[target]), "PORT"))
        p0 = cpu_ticks(proc.measured_pid)
        res = run(argv, timeout=d + 60)
        p1 = cpu_ticks(proc.measured_pid)
        m = re.search(r"(\d+) connections in (\d+) real seconds", res.stdout)
        if res.returncode != 0 or not m:
            raise RuntimeError(f"openssl s_time failed ({res.returncode}): {res.stdout[-400:]}{res.stderr[-400:]}")
        n, seconds = int(m.group(1)), int(m.group(2))
        cpu = (p1 - p0) / CLK_TCK
        row = dict(scenario=f"tls-{kind}", target=target, round=rnd, connections=1, requests=n, errors=0,
                   duration_s=seconds, rps=n / seconds if seconds else None, proxy_cpu_s=cpu,
                   proxy_cpu_us_per_req=cpu * 1e6 / n if n else None)
        s.add(row)
        log(f"  tls-{kind:7} {target:9} r{rnd}: {row['rps'] or 0:8.0f} handshakes/s, "
            f"proxy {row['proxy_cpu_us_per_req'] or 0:.2f} µs/handshake")

    def run(self):
        s = self.s
        self.cert = self.certificate()
        with open(f"{self.rd}/www/10k", "wb") as f:
            f.write(b"s" * 10240)
        log(f"scenario tls: HTTPS keep-alive, a handshake per request, resumed handshakes; then a 10 KiB file "
            f"({s.rounds} round(s))")
        targets = [t for t in PROXIES if t not in s.a.skip]
        procs = {}
        try:
            for t in targets:
                procs[t] = self.start(t, "tls")
            for key in ("tls50", "tlsnew"):
                for t in targets:
                    s.wrk_once(key, t, 0, None, PORT_TLS[t], warmup=True)
                for rnd in range(1, s.rounds + 1):
                    for t in targets:
                        s.wrk_once(key, t, rnd, procs[t].measured_pid, PORT_TLS[t], scenario=key)
            for kind in ("full", "resumed"):
                for rnd in range(1, s.rounds + 1):
                    for t in targets:
                        self.handshakes_once(kind, t, procs[t], rnd)
        finally:
            s.stop_procs(procs)
        procs = {}
        try:
            for t in [t for t in ("fairlead", "nginx") if t not in s.a.skip]:
                procs[t] = self.start(t, "static")
            for t in procs:
                s.wrk_once("static10k", t, 0, None, PORT_STATIC[t], warmup=True)
            for rnd in range(1, s.rounds + 1):
                for t in procs:
                    s.wrk_once("static10k", t, rnd, procs[t].measured_pid, PORT_STATIC[t], scenario="static10k")
        finally:
            s.stop_procs(procs)

"""The suite: starts the origin and the proxies, runs each scenario, and collects one row per measured
run (scenario, target, round, figures)."""
import datetime as dt
import json
import os
import resource
import signal
import subprocess
import time
import urllib.request

from .common import BALANCE_TARGETS, CLK_TCK, GROUPS, LIB, MiB, PORT, PORT_ORIGIN, PORT_ORIGIN_5S, PORT_ORIGIN_STATUS, PORT_SLOW, PORT_STATIC, PORT_TLS, PROCS, PROXIES, PY, ROOT, SLOW_DELAY_MS, TARGETS, WRK, die, log
from .procs import Proc, cpu_ticks, http_get, open_server_conns, port_free, private_kib, rss_kib, run, stuck_after_run, wait_port
from .configs import balance_conf, fairlead_conf, haproxy_conf, nginx_conf, origin_conf, write
from .deploy import PORT_APP, DeploySafety
from .tls import TlsScenario
from .wrk import parse_wrk


class Suite:
    def __init__(self, a):
        self.a = a
        self.quick = a.quick
        self.rounds = a.rounds if a.rounds else (1 if a.quick else 3)
        self.rows = []
        self.notes = []
        self.commands = {}
        self.proxy_cpu, self.load_cpu = str(a.proxy_cpu), str(a.load_cpu)
        self.rd = a.run_dir
        self.fairlead_bin = os.path.join(ROOT, "build-bench", "proxy", "fairlead")
        self.origin = None
        self.origin_worker = None
        self.idle_requested = a.idle
        self.reuse_duration = a.reuse_duration or (8 if a.quick else 20)
        self.started = dt.datetime.now()

    def dur(self, key):
        return WRK[key]["dur"][1 if self.quick else 0]

    # ---- processes

    def start_origin(self):
        os.makedirs(f"{self.rd}/www", exist_ok=True)
        os.makedirs(f"{self.rd}/origin-tmp", exist_ok=True)
        with open(f"{self.rd}/www/1m", "wb") as f:
            f.write(b"x" * MiB)
        write(f"{self.rd}/www/upload", "")
        conf = write(f"{self.rd}/origin.conf", origin_conf(self.rd))
        self.origin = Proc("origin", ["nginx", "-e", f"{self.rd}/origin.error.log", "-c", conf, "-g", "daemon off;"],
                           self.load_cpu, f"{self.rd}/origin.out").start()
        for port in (PORT_ORIGIN, PORT_ORIGIN_5S, PORT_ORIGIN_STATUS):
            wait_port(port, self.origin)
        self.origin_worker = self.origin.worker_pid()
        st, body = http_get(PORT_ORIGIN, "/")
        if st != 200 or len(body) != 12:
            die(f"origin answered {st} with {len(body)} bytes; expected 200 with 12 bytes")
        st, body = http_get(PORT_ORIGIN, "/1m")
        if st != 200 or len(body) != MiB:
            die(f"origin /1m answered {st} with {len(body)} bytes")
        req = urllib.request.Request(f"http://127.0.0.1:{PORT_ORIGIN}/upload", data=b"x" * MiB, method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            if r.status != 200 or r.read() != b"ok\n":
                die("origin /upload did not answer 200 ok to a 1 MiB POST")

    def start_proxy(self, target, variant="main", workers=1):
        """Start one proxy configured for `variant` (main: the origin; reuse: the 5 s keep-alive origin)."""
        up = PORT_ORIGIN if variant == "main" else PORT_ORIGIN_5S
        rd, port = self.rd, PORT[target]
        cpus = self.proxy_cpu
        if target in ("fairlead-rr", "fairlead-lr"):
            conf = write(f"{rd}/{target}.yaml", balance_conf(target, port))
            chk = run([self.fairlead_bin, "-c", conf, "--check"])
            if chk.returncode != 0:
                die(f"fairlead --check {conf}:\n{chk.stdout}{chk.stderr}")
            p = Proc(target, [self.fairlead_bin, "-c", conf], cpus, f"{rd}/{target}.out")
        elif target == "haproxy-lc":
            conf = write(f"{rd}/{target}.cfg", balance_conf(target, port))
            p = Proc("haproxy", ["haproxy", "-f", conf, "-db"], cpus, f"{rd}/{target}.out", graceful=signal.SIGTERM)
        elif target == "nginx-lc":
            name = "nginx-lc"
            os.makedirs(f"{rd}/{name}-tmp", exist_ok=True)
            conf = write(f"{rd}/{name}.conf", nginx_conf(rd, name, port, PORT_ORIGIN).replace(
                f"    server 127.0.0.1:{PORT_ORIGIN};\n",
                f"    least_conn;\n    server 127.0.0.1:{PORT_ORIGIN};\n    server 127.0.0.1:{PORT_SLOW};\n"))
            p = Proc("nginx", ["nginx", "-e", f"{rd}/{name}.error.log", "-c", conf, "-g", "daemon off;"],
                     cpus, f"{rd}/{name}.out")
        elif target in ("fairlead", "fairlead-w1", "fairlead-w2"):
            if target == "fairlead-w2":
                workers, cpus = 2, f"{self.proxy_cpu},{self.load_cpu}"
            # Scenario 5 runs fairlead as deployed behind uvicorn (config/sidecar.yaml: one safe retry),
            # as the peers run with their default retries; everywhere else a failure counts as a failure.
            retries = 1 if variant == "reuse" else 0
            conf = write(f"{rd}/{target}-{variant}.yaml", fairlead_conf(port, up, workers, retries, self.a.fairlead_routes,
                                                                            self.a.fairlead_cap))
            chk = run([self.fairlead_bin, "-c", conf, "--check"])
            if chk.returncode != 0:
                die(f"fairlead --check {conf}:\n{chk.stdout}{chk.stderr}")
            p = Proc(target, [self.fairlead_bin, "-c", conf], cpus, f"{rd}/{target}-{variant}.out")
        elif target == "nginx":
            name = f"nginx-{variant}"
            os.makedirs(f"{rd}/{name}-tmp", exist_ok=True)
            conf = write(f"{rd}/{name}.conf", nginx_conf(rd, name, port, up))
            p = Proc("nginx", ["nginx", "-e", f"{rd}/{name}.error.log", "-c", conf, "-g", "daemon off;"],
                     cpus, f"{rd}/{name}.out")
        elif target == "haproxy":
            conf = write(f"{rd}/haproxy-{variant}.cfg", haproxy_conf(port, up))
            p = Proc("haproxy", ["haproxy", "-f", conf, "-db"], cpus, f"{rd}/haproxy-{variant}.out",
                     graceful=signal.SIGTERM)
        else:
            raise ValueError(target)
        p.start()
        wait_port(port, p)
        p.measured_pid = p.worker_pid()
        st, _ = http_get(port, "/")
        if st != 200:
            raise RuntimeError(f"{target} answered {st} to a first GET /")
        return p

    def start_proxies(self, variant="main"):
        procs = {}
        for t in PROXIES:
            if t in self.a.skip:
                continue
            procs[t] = self.start_proxy(t, variant)
        return procs

    @staticmethod
    def stop_procs(procs):
        for p in procs.values():
            p.stop()

    # ---- rows

    def add(self, row):
        row.setdefault("date", self.started.strftime("%Y-%m-%d"))
        self.rows.append(row)
        with open(f"{self.rd}/rows.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    # ---- wrk runs

    def wrk_argv(self, key, port, duration=None):
        s = WRK[key]
        scheme = s.get("scheme", "http")
        argv = ["taskset", "-c", self.load_cpu, "wrk", "-t1", f"-c{s['conns']}", f"-d{duration or self.dur(key)}s",
                "--latency"] + s["extra"]
        if s["body"] == "request":
            argv += ["-s", self.post_lua]
        return argv + [f"{scheme}://127.0.0.1:{port}{s['path']}"]

    def wrk_once(self, key, target, rnd, proxy_pid, port, scenario=None, warmup=False):
        s = WRK[key]
        argv = self.wrk_argv(key, port, duration=1 if warmup else None)
        if warmup:
            run(argv, timeout=60)
            return None
        self.commands.setdefault(key, " ".join(a if " " not in a else f"'{a}'" for a in argv)
                                 .replace(str(port), "PORT").replace(self.rd, "RUNDIR"))
        conns_before = open_server_conns(port)
        a0 = self.origin_accepts()
        p0 = cpu_ticks(proxy_pid) if proxy_pid else None
        o0 = cpu_ticks(self.origin_worker)
        res = run(argv, timeout=self.dur(key) + 60)
        o1 = cpu_ticks(self.origin_worker)
        p1 = cpu_ticks(proxy_pid) if proxy_pid else None
        a1 = self.origin_accepts()
        stuck = stuck_after_run(port, conns_before)
        if res.returncode != 0:
            raise RuntimeError(f"wrk failed ({res.returncode}): {res.stderr}{res.stdout}")
        with open(f"{self.rd}/wrk-{key}-{target}-{rnd}.txt", "w") as f:
            f.write(res.stdout)
        r = parse_wrk(res.stdout)
        row = dict(scenario=scenario or key, target=target, round=rnd, connections=s["conns"], stuck_conns=stuck, **r)
        n = r["requests"]
        row["upstream_new_conns"] = a1 - a0 - 1      # connections the origin accepted (minus the status poll)
        row["origin_cpu_s"] = (o1 - o0) / CLK_TCK
        row["origin_cpu_us_per_req"] = row["origin_cpu_s"] * 1e6 / n if n else None
        if proxy_pid:
            row["proxy_cpu_s"] = (p1 - p0) / CLK_TCK
            row["proxy_cpu_us_per_req"] = row["proxy_cpu_s"] * 1e6 / n if n else None
            if row["proxy_cpu_us_per_req"] is not None and row["origin_cpu_us_per_req"]:
                row["ratio_proxy_origin"] = row["proxy_cpu_us_per_req"] / row["origin_cpu_us_per_req"]
            row["rss_kib"] = rss_kib(proxy_pid)
        if s["body"]:
            mb = n * MiB / 1e6
            row["mb_per_s"] = mb / r["duration_s"] if r["duration_s"] else None
            row["origin_cpu_us_per_mb"] = row["origin_cpu_s"] * 1e6 / mb if mb else None
            if proxy_pid:
                row["proxy_cpu_us_per_mb"] = row["proxy_cpu_s"] * 1e6 / mb if mb else None
        self.add(row)
        extra = f" {row['mb_per_s']:.0f} MB/s" if s["body"] else ""
        cpu = (f" proxy {row['proxy_cpu_us_per_req']:.2f} µs/req (x{row.get('ratio_proxy_origin') or 0:.2f} origin)"
               if proxy_pid and row.get("proxy_cpu_us_per_req") is not None else "")
        log(f"  {key:7} {target:12} r{rnd}: {r['rps'] or 0:9.0f} req/s{extra} p99 {r['p99_ms'] or 0:.2f} ms"
            f"{cpu} errors {r['errors']}" + (f" STALLED CONNECTIONS {stuck}" if stuck else ""))
        return row

    def scenario_wrk(self, group):
        keys = GROUPS[group]
        log(f"scenario {group}: {', '.join(keys)} ({self.rounds} round(s))")
        procs = self.start_proxies("main")
        try:
            for key in keys:
                targets = [t for t in TARGETS if t not in self.a.skip]
                for t in targets:   # warm-up: fills pools, faults in buffers
                    self.wrk_once(key, t, 0, None, PORT[t], warmup=True)
                for rnd in range(1, self.rounds + 1):
                    for t in targets:
                        pid = procs[t].measured_pid if t in procs else None
                        self.wrk_once(key, t, rnd, pid, PORT[t])
        finally:
            self.stop_procs(procs)

    # ---- scenario 4: idle connections

    def idle_sizes(self):
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        room = hard - 300 if hard != resource.RLIM_INFINITY else 10 ** 6
        sizes = []
        for n in self.idle_requested:
            if n > room:
                note = (f"Scenario 4: {n:,} idle connections requested; {room:,} measured instead: "
                        f"the open-file hard limit here is {hard:,} (`ulimit -Hn`), bench/run could not raise it "
                        f"(that needs CAP_SYS_RESOURCE), and each proxy needs one descriptor per client "
                        f"connection.")
                self.notes.append(note)
                log(note)
                n = room
            sizes.append((n, n))
        return sizes

    def scenario_idle(self):
        sizes = self.idle_sizes()
        log(f"scenario idle: {', '.join(str(n) for n, _ in sizes)} idle connections ({self.rounds} round(s))")
        for n, _ in sizes:
            for rnd in range(1, self.rounds + 1):
                for t in PROXIES:
                    if t in self.a.skip:
                        continue
                    p = self.start_proxy(t, "main")
                    try:
                        self.idle_once(t, p, n, rnd)
                    finally:
                        p.stop()

    def idle_once(self, target, proc, n, rnd):
        pid = proc.measured_pid
        for _ in range(20):                   # a few requests through: pools, buffers, lazy init
            http_get(PORT[target], "/")
        time.sleep(0.3)
        before = private_kib(pid)
        argv = ["taskset", "-c", self.load_cpu, PY, os.path.join(LIB, "idle_clients.py"),
                "--port", str(PORT[target]), "--count", str(n), "--connect-deadline", "90", "--hold", "120"]
        self.commands.setdefault("idle", " ".join(argv).replace(str(PORT[target]), "PORT").replace(str(n), "N"))
        client = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=open(f"{self.rd}/idle-{target}-{n}-{rnd}.err", "w"), text=True,
                                  start_new_session=True)
        cproc = Proc("idle-client", [], self.load_cpu, "/dev/null")
        cproc.p = client
        PROCS.append(cproc)
        try:
            ready = json.loads(read_line(client, 120))
            time.sleep(2.5)                   # settle: deferred frees, and fairlead frees per-request state after 1 s idle
            after = private_kib(pid)
            rss = rss_kib(pid)
            client.stdin.write("check\n")
            client.stdin.flush()
            check = json.loads(read_line(client, 30))
            client.stdin.write("quit\n")
            client.stdin.flush()
            client.wait(timeout=30)
        finally:
            cproc.stop()
        ok = ready["ok"]
        row = dict(scenario=f"idle{n}", target=target, round=rnd, connections=n, idle_conns=ok,
                   idle_still_open=check["open"], errors=ready["errors"],
                   socket_errors_detail=" ".join(f"{k} {v}" for k, v in ready["kinds"].items()),
                   priv_before_kib=before, priv_after_kib=after, rss_kib=rss,
                   kib_per_idle_conn=(after - before) / ok if ok else None, duration_s=ready["seconds"])
        self.add(row)
        log(f"  idle{n} {target:9} r{rnd}: {ok} open ({check['open']} still open), private {before} -> {after} KiB"
            f" = {row['kib_per_idle_conn'] or 0:.3f} KiB/conn, errors {ready['errors']} {ready['kinds'] or ''}")

    # ---- scenario 5: upstream reuse

    def origin_accepts(self):
        _, body = http_get(PORT_ORIGIN_STATUS, "/status")
        # "Active connections: 1 \nserver accepts handled requests\n 12 12 40 \n..."
        return int(body.decode().split("\n")[2].split()[0])

    def scenario_reuse(self):
        d = self.reuse_duration
        log(f"scenario reuse: paced ~200 req/s with bursts for {d}s against a 5 s keep-alive origin "
            f"({self.rounds} round(s))")
        procs = self.start_proxies("reuse")
        try:
            time.sleep(6)   # let the start-up request's upstream connection expire everywhere
            for rnd in range(1, self.rounds + 1):
                for t in PROXIES:
                    if t in procs:
                        self.reuse_once(t, procs[t], rnd, d)
        finally:
            self.stop_procs(procs)

    def reuse_once(self, target, proc, rnd, d):
        argv = ["taskset", "-c", self.load_cpu, PY, os.path.join(LIB, "paced_client.py"),
                "--port", str(PORT[target]), "--rate", "200", "--duration", str(d), "--threads", "16"]
        self.commands.setdefault("reuse", " ".join(argv).replace(str(PORT[target]), "PORT"))
        a0 = self.origin_accepts()
        p0 = cpu_ticks(proc.measured_pid)
        res = run(argv, timeout=d + 60)
        p1 = cpu_ticks(proc.measured_pid)
        a1 = self.origin_accepts()
        if res.returncode != 0:
            raise RuntimeError(f"paced client failed: {res.stderr}")
        r = json.loads(res.stdout.strip().splitlines()[-1])
        new_conns = a1 - a0 - 1          # minus the status request's own connection
        n = r["requests"]
        row = dict(scenario="reuse", target=target, round=rnd, connections=16, requests=n, errors=r["errors"],
                   socket_errors_detail=" ".join(f"{k} {v}" for k, v in r["kinds"].items()),
                   duration_s=r["seconds"], rps=n / r["seconds"] if r["seconds"] else None,
                   upstream_new_conns=new_conns, new_conns_per_1000=new_conns * 1000 / n if n else None,
                   proxy_cpu_s=(p1 - p0) / CLK_TCK,
                   proxy_cpu_us_per_req=(p1 - p0) / CLK_TCK * 1e6 / n if n else None,
                   rss_kib=rss_kib(proc.measured_pid))
        self.add(row)
        log(f"  reuse {target:9} r{rnd}: {n} requests, {new_conns} new upstream connections "
            f"({row['new_conns_per_1000'] or 0:.1f}/1000), errors {r['errors']} {r['kinds'] or ''}")
        # the next proxy starts with an empty-ish pool too: idle connections expire after 4-5 s anyway

    # ---- scenario 8: scaling

    def scenario_scaling(self):
        key = "ka50"
        d = WRK[key]["dur"][1 if self.quick else 0]
        log(f"scenario scaling: fairlead workers 1 vs 2, wrk -c50 {d}s ({self.rounds} round(s))")
        procs = {}
        try:
            for t in ("fairlead-w1", "fairlead-w2"):
                procs[t] = self.start_proxy(t, "main")
            for t in procs:
                self.wrk_once(key, t, 0, None, PORT[t], warmup=True)
            for rnd in range(1, self.rounds + 1):
                for t in procs:
                    self.wrk_once(key, t, rnd, procs[t].measured_pid, PORT[t], scenario="scaling")
        finally:
            # fairlead-w1 and -w2: separate processes on separate ports
            self.stop_procs(procs)

    # ---- scenario 9: balancing with one slow endpoint

    def slow_count(self):
        return int(http_get(PORT_SLOW, "/__count")[1])

    def scenario_balance(self):
        key = "ka50"
        d = WRK[key]["dur"][1 if self.quick else 0]
        log(f"scenario balance: two endpoints, one {SLOW_DELAY_MS} ms slower; wrk -c50 {d}s ({self.rounds} round(s))")
        slow = Proc("slow-origin", [PY, os.path.join(LIB, "slow_origin.py"), "--port", str(PORT_SLOW),
                                    "--delay-ms", str(SLOW_DELAY_MS)], self.load_cpu, f"{self.rd}/slow-origin.out").start()
        wait_port(PORT_SLOW, slow)
        procs = {}
        try:
            for t in BALANCE_TARGETS:
                if t.split("-")[0] not in self.a.skip:
                    procs[t] = self.start_proxy(t)
            for t in procs:
                self.wrk_once(key, t, 0, None, PORT[t], warmup=True)
            for rnd in range(1, self.rounds + 1):
                for t in procs:
                    before = self.slow_count()
                    row = self.wrk_once(key, t, rnd, procs[t].measured_pid, PORT[t], scenario="balance")
                    row["slow_share_pct"] = (self.slow_count() - before) * 100 / row["requests"] if row["requests"] else None
        finally:
            self.stop_procs(procs)
            slow.stop()

    # ---- driver

    def run(self):
        ports = set(PORT.values()) | set(PORT_TLS.values()) | set(PORT_STATIC.values())
        for port in [PORT_ORIGIN, PORT_ORIGIN_5S, PORT_ORIGIN_STATUS, PORT_APP] + sorted(ports):
            if not port_free(port):
                die(f"port {port} on 127.0.0.1 is in use (a previous run still going?): "
                    f"`ss -ltnp 'sport = :{port}'`")
        self.post_lua = write(f"{self.rd}/post-1mib.lua",
                              'wrk.method = "POST"\nwrk.body = string.rep("x", 1048576)\n'
                              'wrk.headers["Content-Type"] = "application/octet-stream"\n')
        self.load_start = os.getloadavg()
        self.start_origin()
        for sc in self.a.scenarios:
            t0 = time.monotonic()
            if sc in GROUPS:
                self.scenario_wrk(sc)
            elif sc == "idle":
                self.scenario_idle()
            elif sc == "reuse":
                self.scenario_reuse()
            elif sc == "deploy":
                DeploySafety(self).run()
            elif sc == "tls":
                TlsScenario(self).run()
            elif sc == "scaling":
                self.scenario_scaling()
            elif sc == "balance":
                self.scenario_balance()
            log(f"scenario {sc} took {time.monotonic() - t0:.0f}s")
        self.origin.stop()
        self.load_end = os.getloadavg()
        self.finished = dt.datetime.now()


def read_line(proc, timeout):
    """One line from a child's stdout, with a deadline."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if sel.select(timeout=max(0.0, end - time.monotonic())):
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("child closed its output")
            return line
    raise RuntimeError(f"no answer from the child within {timeout}s")

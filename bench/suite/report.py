"""The report: tables with medians and ranges, the headline, charts (gnuplot), CSV and Markdown."""
import csv
import os
import platform
import resource
import statistics
import sys

from .common import BALANCE_TARGETS, LABEL, PROXIES, ROOT, SLOW_DELAY_MS, TARGETS, WRK, log
from .procs import run
from .deploy import KINDS as DEPLOY_KINDS, PHASES as DEPLOY_PHASES
from .configs import write


def vals(rows, scenario, target, metric):
    return [r[metric] for r in rows if r["scenario"] == scenario and r["target"] == target
            and r.get(metric) is not None]


def stat(rows, scenario, target, metric):
    v = vals(rows, scenario, target, metric)
    if not v:
        return None
    return statistics.median(v), min(v), max(v)


def fmt(x, digits=None):
    if x is None:
        return "—"
    if isinstance(x, int):
        return f"{x:,}"
    if digits is None:
        ax = abs(x)
        digits = 0 if ax >= 1000 else 1 if ax >= 100 else 2 if ax >= 1 else 3
    return f"{x:,.{digits}f}"


def cell(s, digits=None):
    if s is None:
        return "—"
    m, lo, hi = s
    if lo == hi:
        return fmt(m, digits)
    return f"{fmt(m, digits)} ({fmt(lo, digits)}–{fmt(hi, digits)})"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) // 1024:,} MiB"
    try:
        with open("/etc/debian_version") as f:
            debian = f.read().strip()
    except OSError:
        debian = "?"
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(), "memory": mem,
            "debian": debian, "nofile": resource.getrlimit(resource.RLIMIT_NOFILE)}


def versions(fairlead_bin):
    def first(cmd, stream="stdout"):
        try:
            r = run(cmd, timeout=10)
            text = (r.stdout + r.stderr).strip()
            return text.splitlines()[0] if text else "?"
        except Exception:  # noqa: BLE001
            return "?"
    desc = first(["git", "-C", ROOT, "describe", "--always", "--tags"])
    # Dirty means a change to what was measured; earlier reports in bench/results/ are not that.
    changed = first(["git", "-C", ROOT, "status", "--porcelain", "--", ".", ":!bench/results"])
    if changed not in ("", "?"):
        desc += "-dirty"
    commit = first(["git", "-C", ROOT, "rev-parse", "HEAD"])
    subject = first(["git", "-C", ROOT, "log", "-1", "--format=%s"])
    return {"fairlead": f"{first([fairlead_bin, '--version'])}, `{desc}` ({commit[:12]}: {subject})",
            "nginx": first(["nginx", "-v"]), "haproxy": first(["haproxy", "-v"]),
            "wrk": first(["wrk", "-v"]).split("Copyright")[0].strip(),
            "gnuplot": first(["gnuplot", "--version"]), "python": sys.version.split()[0]}


# Headline rows: (scenario, metric, label, better, rule)
#   rule: ("best", op) compares with the better peer; ("peer", name, op); ("abs", op, value); None = shown only
HEADLINE = [
    ("ka50", "proxy_cpu_us_per_req", "1 · keep-alive c50: proxy CPU µs/request", "lower", ("best", "<=", 0.85)),
    ("ka50", "ratio_proxy_origin", "1 · keep-alive c50: proxy CPU ÷ origin CPU", "lower", ("best", "<=", 0.85)),
    ("ka50", "rps", "1 · keep-alive c50: requests/s", "higher", ("best", ">=", None)),
    ("ka50", "p99_ms", "1 · keep-alive c50: p99 latency ms", "lower", ("best", "<=", None)),
    ("ka1", "p50_ms", "1 · keep-alive c1: p50 latency ms", "lower", None),
    ("ka1", "p99_ms", "1 · keep-alive c1: p99 latency ms", "lower", None),
    ("ka1", "proxy_cpu_us_per_req", "1 · keep-alive c1: proxy CPU µs/request", "lower", None),
    ("close", "proxy_cpu_us_per_req", "2 · connection per request: proxy CPU µs/request", "lower",
     ("best", "<=", 0.85)),
    ("close", "ratio_proxy_origin", "2 · connection per request: proxy CPU ÷ origin CPU", "lower",
     ("best", "<=", 0.85)),
    ("close", "rps", "2 · connection per request: requests/s", "higher", None),
    ("get1m", "mb_per_s", "3 · 1 MiB responses: MB/s", "higher", ("peer", "haproxy", ">=")),
    ("get1m", "proxy_cpu_us_per_mb", "3 · 1 MiB responses: proxy CPU µs/MB", "lower", ("peer", "haproxy", "<=")),
    ("post1m", "mb_per_s", "3 · 1 MiB uploads: MB/s", "higher", ("peer", "haproxy", ">=")),
    ("post1m", "proxy_cpu_us_per_mb", "3 · 1 MiB uploads: proxy CPU µs/MB", "lower", ("peer", "haproxy", "<=")),
    ("IDLE", "kib_per_idle_conn", "4 · idle keep-alive connections: KiB private memory each", "lower",
     ("abs", "<=", 0.5)),
    ("reuse", "new_conns_per_1000", "5 · upstream reuse: new upstream connections / 1,000 requests", "lower",
     ("best", "<=", None)),
    ("reuse", "errors", "5 · upstream reuse: failed requests (sum over rounds)", "lower", ("abs", "<=", 0)),
    ("tls50", "proxy_cpu_us_per_req", "7 · HTTPS keep-alive c50: proxy CPU µs/request", "lower", ("best", "<=", None)),
    ("tls50", "rps", "7 · HTTPS keep-alive c50: requests/s", "higher", ("best", ">=", None)),
    ("tlsnew", "rps", "7 · new TLS connection per request (resumed): requests/s", "higher", ("best", ">=", None)),
    ("tlsnew", "proxy_cpu_us_per_req", "7 · new TLS connection per request (resumed): proxy CPU µs/request", "lower",
     ("best", "<=", None)),
    ("tls-full", "rps", "7 · full TLS handshakes/s (one client, sequential)", "higher", None),
    ("tls-full", "proxy_cpu_us_per_req", "7 · full handshake: proxy CPU µs", "lower", ("best", "<=", None)),
    ("tls-resumed", "rps", "7 · resumed TLS handshakes/s (one client, sequential)", "higher", None),
    ("tls-resumed", "proxy_cpu_us_per_req", "7 · resumed handshake: proxy CPU µs", "lower", ("best", "<=", None)),
    ("static10k", "rps", "7 · 10 KiB static file: requests/s", "higher", ("peer", "nginx", ">=")),
    ("static10k", "proxy_cpu_us_per_req", "7 · 10 KiB static file: proxy CPU µs/request", "lower", ("peer", "nginx", "<=")),
    ("WRK", "errors", "1–3, 7 · failed requests, all wrk runs (sum)", "lower", ("abs", "<=", 0)),
    ("WRK", "stuck_conns", "1–3, 7 · stalled client connections, all wrk runs (sum)", "lower", ("abs", "<=", 0)),
]


DEPLOY_TEXT = (
    "Each proxy in turn in front of the same app (`bench/lib/slow_origin.py`: 5 ms answers, idle "
    "keep-alive connections closed after 5 s as uvicorn does), a fresh proxy and app for every phase, "
    "under `bench/lib/steady_client.py`: 50 keep-alive client connections, 200 requests/s together "
    "(the race phase: `bench/lib/paced_client.py`, as in scenario 5). Reloads are each proxy's own: "
    "fairlead SIGHUP, nginx SIGHUP, HAProxy SIGUSR2 in master-worker mode (`-W`); each changes a "
    "timeout, and the 10th is invalid. The graceful stop is each proxy's own too: fairlead SIGTERM "
    "(`drain: {delay: 3s, timeout: 10s}`, as a sidecar behind an ALB runs it), nginx SIGQUIT, HAProxy "
    "SIGUSR1. fairlead runs with `retries: {attempts: 1, wait_while_refused: 2s}` as in "
    "config/sidecar.yaml; nginx and HAProxy with their defaults (HAProxy's `retries 3` waits "
    "min(timeout connect, 1 s) before connecting again to a server that refused, which rides a short "
    "restart out; nginx answers 502 at once); 10 % of the requests take 2 s, and the load goes on for 2 s after the signal, as a load "
    "balancer still sends while it deregisters the target. A request whose reused keep-alive "
    "connection is found closed before any answer is sent again once on a new connection, as "
    "browsers and load balancers do (RFC 9112 §9.3.1): *retried by the client*; only the second "
    "outcome counts. refused: no connection; reset: the connection closed before the answer; "
    "truncated: an answer cut short.")


def verdict(rule, fl, peers):
    if rule is None or fl is None:
        return "", ""
    kind = rule[0]
    if kind == "best":
        op = rule[1]
        avail = [p for p in peers.values() if p is not None]
        if not avail:
            return "", ""
        best = min(avail) if op == "<=" else max(avail)
        goal = rule[2]
        target = "≤ better peer" if op == "<=" else "≥ better peer"
        if goal:
            target += f" (goal ×{goal:.2f})"
        ok = fl <= best if op == "<=" else fl >= best
        if best == 0:
            return target, "yes" if ok else "no"
        diff = (fl / best - 1) * 100
        return target, f"{'yes' if ok else 'no'} ({diff:+.0f} % vs better peer)"
    if kind == "peer":
        name, op = rule[1], rule[2]
        ref = peers.get(name)
        target = f"{op.replace('<=', '≤').replace('>=', '≥')} {LABEL[name]}"
        if ref is None:
            return target, ""
        ok = fl <= ref if op == "<=" else fl >= ref
        return target, f"{'yes' if ok else 'no'} ({(fl / ref - 1) * 100:+.0f} %)"
    if kind == "abs":
        op, v = rule[1], rule[2]
        target = f"{op.replace('<=', '≤')} {v}"
        ok = fl <= v
        return target, "yes" if ok else f"no ({fmt(fl)} vs {v})"
    return "", ""


class Report:
    def __init__(self, suite, out_dir):
        self.s = suite
        self.rows = suite.rows
        self.out = out_dir
        self.date = suite.started.strftime("%Y-%m-%d")
        self.charts = []

    def idle_scenarios(self):
        seen = []
        for r in self.rows:
            if r["scenario"].startswith("idle") and r["scenario"] not in seen:
                seen.append(r["scenario"])
        return seen

    def headline_value(self, scenario, metric, target):
        if scenario == "WRK":
            v = [r.get(metric) or 0 for r in self.rows if r["scenario"] in WRK and r["target"] == target]
            return sum(v) if v else None
        if metric == "errors" and scenario == "reuse":
            v = vals(self.rows, scenario, target, metric)
            return sum(v) if v else None
        st = stat(self.rows, scenario, target, metric)
        return st[0] if st else None

    def headline(self):
        lines = ["| figure | fairlead | nginx | HAProxy | fairlead ÷ nginx | fairlead ÷ HAProxy | target | met |",
                 "|---|---:|---:|---:|---:|---:|---|---|"]
        expanded = []
        for h in HEADLINE:
            if h[0] == "IDLE":
                for sc in self.idle_scenarios():
                    n = int(sc[4:])
                    expanded.append((sc, h[1], h[2].replace("idle keep-alive", f"{n:,} idle keep-alive"), h[3], h[4]))
            else:
                expanded.append(h)
        for sc, metric, label, _better, rule in expanded:
            v = {t: self.headline_value(sc, metric, t) for t in PROXIES}
            if all(x is None for x in v.values()):
                continue
            target, met = verdict(rule, v["fairlead"], {"nginx": v["nginx"], "haproxy": v["haproxy"]})
            stalled = sum(vals(self.rows, sc, "fairlead", "stuck_conns")) if sc in WRK else 0
            if stalled and met:
                conns = WRK[sc]["conns"]
                per_round = max(vals(self.rows, sc, "fairlead", "stuck_conns"))
                met = (f"invalid: fairlead stalled {stalled} connections (up to {per_round} of {conns} per "
                       f"round), so fewer connections carried the load")
            rn, rh = ratio(v["fairlead"], v["nginx"]), ratio(v["fairlead"], v["haproxy"])
            if metric in ("errors", "stuck_conns"):
                rn = rh = None
            lines.append(f"| {label} | {fmt(v['fairlead'])} | {fmt(v['nginx'])} | {fmt(v['haproxy'])} | "
                         f"{fmt(rn, 2)} | {fmt(rh, 2)} | {target} | {met} |")
        # scaling
        w1 = stat(self.rows, "scaling", "fairlead-w1", "rps")
        w2 = stat(self.rows, "scaling", "fairlead-w2", "rps")
        if w1 and w2:
            lines.append(f"| 8 · fairlead workers: 2 ÷ workers: 1, requests/s | {fmt(w2[0] / w1[0], 2)} | | | | | "
                         f"(shown only) | |")
        return "\n".join(lines)

    def wrk_table(self, key, targets):
        s = WRK[key]
        if s["body"]:
            cols = [("MB/s", "mb_per_s"), ("requests/s", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"),
                    ("proxy CPU µs/MB", "proxy_cpu_us_per_mb"), ("origin CPU µs/MB", "origin_cpu_us_per_mb"),
                    ("proxy ÷ origin", "ratio_proxy_origin"), ("errors", "errors"), ("stalled conns", "stuck_conns"),
                    ("origin accepts", "upstream_new_conns"), ("proxy RSS MiB", "rss_mib")]
        else:
            cols = [("requests/s", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"),
                    ("proxy CPU µs/req", "proxy_cpu_us_per_req"), ("origin CPU µs/req", "origin_cpu_us_per_req"),
                    ("proxy ÷ origin", "ratio_proxy_origin"), ("errors", "errors"), ("stalled conns", "stuck_conns"),
                    ("origin accepts", "upstream_new_conns"), ("proxy RSS MiB", "rss_mib")]
        sc = key if key in WRK else key
        return self.table(sc, targets, cols)

    def table(self, scenario, targets, cols):
        for r in self.rows:
            if r.get("rss_kib") is not None:
                r["rss_mib"] = r["rss_kib"] / 1024
        head = "| | " + " | ".join(c[0] for c in cols) + " |"
        sep = "|---|" + "---:|" * len(cols)
        lines = [head, sep]
        for t in targets:
            if not any(r["scenario"] == scenario and r["target"] == t for r in self.rows):
                continue
            cells = []
            for _, m in cols:
                if m in ("errors", "stuck_conns"):
                    v = vals(self.rows, scenario, t, m)
                    cells.append(f"{sum(v):,}" + (f" ({', '.join(str(x) for x in v)})" if len(v) > 1 else ""))
                else:
                    cells.append(cell(stat(self.rows, scenario, t, m)))
            lines.append(f"| {LABEL[t]} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def deploy_table(self):
        lines = ["| phase | | requests | failed | refused | reset | 5xx | truncated | timeout | other | "
                 "retried by the client | notes |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for phase, title in DEPLOY_PHASES:
            for t in PROXIES:
                rs = [r for r in self.rows if r["scenario"] == f"deploy-{phase}" and r["target"] == t]
                if not rs:
                    continue
                r = rs[-1]
                cells = [f"{r[k]:,}" for k in ("sent", "failed") + DEPLOY_KINDS + ("retried",)]
                lines.append(f"| {title} | {LABEL[t]} | " + " | ".join(cells) + f" | {r.get('note') or ''} |")
        return "\n".join(lines)

    def outlier_notes(self):
        """Rounds far from their siblings: a disturbed machine (another process on the core)."""
        notes = []
        for sc in WRK:
            for t in TARGETS:
                rs = [r for r in self.rows if r["scenario"] == sc and r["target"] == t]
                if len(rs) < 3:
                    continue
                med_rps = statistics.median(r["rps"] for r in rs if r.get("rps"))
                p99s = [r["p99_ms"] for r in rs if r.get("p99_ms")]
                med_p99 = statistics.median(p99s) if p99s else None
                for r in rs:
                    odd = []
                    if r.get("rps") and r["rps"] < 0.6 * med_rps:
                        odd.append(f"{fmt(r['rps'], 0)} req/s against a median of {fmt(med_rps, 0)}")
                    if med_p99 and r.get("p99_ms") and r["p99_ms"] > 5 * med_p99:
                        odd.append(f"p99 {fmt(r['p99_ms'])} ms against a median of {fmt(med_p99)} ms")
                    if odd:
                        cpu = r.get("proxy_cpu_us_per_req")
                        cpus = [x["proxy_cpu_us_per_req"] for x in rs if x.get("proxy_cpu_us_per_req")]
                        in_line = cpu and cpus and abs(cpu / statistics.median(cpus) - 1) <= 0.15
                        notes.append(f"- {sc} · {LABEL[t]} · round {r['round']} looks disturbed: "
                                     + "; ".join(odd)
                                     + (f" (its CPU per request, {fmt(cpu)} µs, is within 15 % of the median: "
                                        f"the core was shared, the proxy did not get slower)" if in_line else "")
                                     + ".")
        return notes

    def error_notes(self):
        notes = []
        for r in self.rows:
            if r.get("stuck_conns"):
                notes.append(f"- {r['scenario']} · {LABEL[r['target']]} · round {r['round']}: "
                             f"{r['stuck_conns']} client connection(s) stalled: still open on the proxy 2 s "
                             f"after wrk closed them (the proxy stopped reading them)")
            if r.get("errors"):
                detail = r.get("socket_errors_detail") or ""
                non2 = r.get("non2xx")
                notes.append(f"- {r['scenario']} · {LABEL[r['target']]} · round {r['round']}: {r['errors']:,} errors"
                             + (f" (socket: {detail})" if detail and r.get("socket_errors") else
                                f" ({detail})" if detail else "")
                             + (f", {non2:,} non-2xx/3xx" if non2 else ""))
        return notes

    # ---- charts

    def bars(self, name, title, ylabel, cats, series, getter, digits=None, logscale=False, hline=None):
        """Clustered bars: median with min–max error bars, value printed above each bar."""
        dat = os.path.join(self.s.rd, f"chart-{name}.dat")
        present = [s for s in series if any(getter(c, s) for c in cats)]
        cats = [c for c in cats if any(getter(c, s) for s in present)]
        if not present or not cats:
            return
        top = 0            # highest max
        top_med = 0        # highest median
        low = None         # lowest min (log scale)
        with open(dat, "w") as f:
            for c in cats:
                parts = [f'"{c[1]}"']
                for s in present:
                    v = getter(c, s)
                    if v is None:
                        parts += ["NaN", "NaN", "NaN"]
                    else:
                        parts += [repr(v[0]), repr(v[1]), repr(v[2])]
                        top = max(top, v[2])
                        top_med = max(top_med, v[0])
                        if v[1] > 0:
                            low = v[1] if low is None else min(low, v[1])
                f.write(" ".join(parts) + "\n")
        colors = {"fairlead": "#e66101", "nginx": "#1b9e77", "haproxy": "#386cb0", "direct": "#999999",
                  "origin": "#999999", "fairlead-w1": "#e66101", "fairlead-w2": "#fdb863"}
        n = len(present)
        width = 1.0 / (n + 1)
        png = os.path.join(self.out, f"{self.date}-{name}.png")
        fmtstr = "%.0f" if digits == 0 else f"%.{digits}f" if digits is not None else "%.3g"
        plots, labels = [], []
        for i, s in enumerate(present):
            col = 2 + 3 * i
            plots.append(f"'{dat}' using {col}:{col + 1}:{col + 2}" + (":xtic(1)" if i == 0 else "")
                         + f" title '{SERIES_LABEL.get(s, s)}' lc rgb '{colors.get(s, '#666666')}'")
            off = (i - (n - 1) / 2.0) * width
            labels.append(f"'{dat}' using ($0{off:+.4f}):(${col + 2} < YCLIP ? ${col + 2} : YCLIP):"
                          f"(sprintf('{fmtstr}', ${col})) with labels offset 0,0.7 font ',9' notitle")
        if hline:
            top = max(top, hline[0])
            top_med = max(top_med, hline[0])
        clipped = False
        if logscale:
            ymin, ymax = (low or 0.01) / 2, top * 4
        elif top > 2 * top_med:   # one disturbed round must not flatten every bar: clip its error bar
            ymin, ymax, clipped = 0, top_med * 1.5, True
        else:
            ymin, ymax = 0, top * 1.18
        if clipped:
            title += " — error bars clipped, see the tables"
        extra = ""
        if hline:
            extra = (f"set arrow from graph 0, first {hline[0]} to graph 1, first {hline[0]} nohead dt 2 lw 2 "
                     f"lc rgb '#cc0000' front\nset label \"{hline[1]}\" at graph 0.01, first {hline[0]} "
                     f"offset 0,0.7 tc rgb '#cc0000' front")
        gp = f"""set terminal pngcairo size 1100,600 font 'DejaVu Sans,11' noenhanced
set output '{png}'
set title "{title}"
set ylabel "{ylabel}"
set style data histogram
set style histogram errorbars gap 1 lw 1.5
set style fill solid 0.85 border -1
set boxwidth 0.95
set key top right
set grid ytics lc rgb '#dddddd'
set xtics nomirror
set ytics nomirror
set border 3
set datafile missing 'NaN'
{extra}
{'set logscale y' if logscale else ''}
set yrange [{ymin}:{ymax}]
set format y "%'.0f"
plot {', '.join(plots)}, \\
     {', '.join(labels)}
"""
        if top < 10 or logscale:
            gp = gp.replace("set format y \"%'.0f\"", "set format y '%g'")
        gp = gp.replace("YCLIP", repr(ymax / 1.6 if logscale else ymax * 0.92))
        script = os.path.join(self.s.rd, f"chart-{name}.gp")
        write(script, gp)
        r = run(["gnuplot", script], timeout=60)
        if r.returncode != 0:
            log(f"gnuplot {name}: {r.stderr}")
            return
        self.charts.append((name, title, os.path.basename(png)))

    def make_charts(self):
        rows = self.rows

        def st(metric):
            return lambda c, s: stat(rows, c[0], s, metric)

        def flag(cats):
            """Say on the chart itself when fairlead's bars rest on stalled connections."""
            out = []
            for sc, text in cats:
                stalled = sum(vals(rows, sc, "fairlead", "stuck_conns"))
                out.append((sc, text + (f" [fairlead: {stalled} stalled conns]" if stalled else "")))
            return out

        small = flag([("ka50", "keep-alive, 50 conns"), ("ka1", "keep-alive, 1 conn"),
                      ("close", "conn per request, 50")])

        def cpu_get(c, s):
            if s == "origin":
                return stat(rows, c[0], "direct", "origin_cpu_us_per_req")
            return stat(rows, c[0], s, "proxy_cpu_us_per_req")
        self.bars("cpu-per-request", "CPU µs per request (median, min–max); origin = the origin alone, direct runs",
                  "CPU µs per request", small, PROXIES + ["origin"], cpu_get, digits=1)
        self.bars("cpu-ratio-to-origin", "Proxy CPU per request ÷ origin CPU per request in the same run "
                  "(lower is better; steadiest figure)", "ratio", small, PROXIES, st("ratio_proxy_origin"), digits=2)
        self.bars("requests-per-second", "Requests/s (median, min–max)", "requests/s", small, TARGETS, st("rps"),
                  digits=0)
        self.bars("latency-p99", "p99 latency, ms (median, min–max; log scale)", "ms", small, TARGETS,
                  st("p99_ms"), digits=2, logscale=True)
        large = flag([("get1m", "1 MiB responses (GET)"), ("post1m", "1 MiB uploads (POST)")])
        self.bars("1mib-throughput", "1 MiB transfers: MB/s (median, min–max; MB = 10^6 bytes of body)", "MB/s",
                  large, TARGETS, st("mb_per_s"), digits=0)
        self.bars("1mib-cpu", "1 MiB transfers: proxy CPU µs per MB (median, min–max)", "CPU µs per MB", large,
                  PROXIES, st("proxy_cpu_us_per_mb"), digits=0)
        idle = [(sc, f"{int(sc[4:]):,} idle connections") for sc in self.idle_scenarios()]
        self.bars("idle-memory", "Private memory (USS) per idle keep-alive client connection, KiB "
                  "(target: ≤ 0.5)", "KiB per idle connection", idle, PROXIES, st("kib_per_idle_conn"), digits=2,
                  hline=(0.5, "target 0.5 KiB"))
        self.bars("upstream-reuse", "5 s keep-alive origin, ~200 req/s with bursts: new upstream connections "
                  "per 1,000 requests", "per 1,000 requests", [("reuse", "upstream reuse")], PROXIES,
                  st("new_conns_per_1000"), digits=1)
        self.bars("scaling", "fairlead workers: 1 vs 2, keep-alive c50: requests/s (load generator shares core 1)",
                  "requests/s", [("scaling", "keep-alive, 50 conns")], ["fairlead-w1", "fairlead-w2"], st("rps"),
                  digits=0)

    # ---- files

    def write_csv(self):
        fields = ["date", "scenario", "target", "round", "connections", "duration_s", "requests", "rps", "mb_per_s",
                  "p50_ms", "p99_ms", "socket_errors", "non2xx", "errors", "socket_errors_detail", "stuck_conns",
                  "proxy_cpu_s", "proxy_cpu_us_per_req", "origin_cpu_s", "origin_cpu_us_per_req",
                  "ratio_proxy_origin", "proxy_cpu_us_per_mb", "origin_cpu_us_per_mb", "rss_kib",
                  "idle_conns", "idle_still_open", "priv_before_kib", "priv_after_kib", "kib_per_idle_conn",
                  "upstream_new_conns", "new_conns_per_1000"]
        path = os.path.join(self.out, f"{self.date}.csv")
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            for r in self.rows:
                w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        return path

    def write_md(self, argv):
        s = self.s
        m = machine_info()
        v = versions(s.fairlead_bin)
        quick = " (--quick: 1 round, short runs; for development, not for conclusions)" if s.quick else ""
        elapsed = (s.finished - s.started).total_seconds()
        L = []
        L.append(f"# fairlead bench — {self.date}\n")
        L.append(f"`{' '.join(argv)}`: {s.rounds} interleaved round(s){quick}, "
                 f"{s.started.strftime('%H:%M')}–{s.finished.strftime('%H:%M')} ({elapsed / 60:.1f} min). "
                 f"Medians with min–max over rounds; a comparison is a ratio of medians from this run. "
                 f"How to read this: [bench/README.md](../README.md).\n")
        L.append("## Headline: fairlead against its peers\n")
        L.append("Ratios of medians from this run (for CPU, latency and memory lower is better; for requests/s "
                 "and MB/s higher is better). Targets from issue 3, against the better peer unless stated.\n")
        L.append(self.headline() + "\n")
        L.append("## Machine and versions\n")
        L.append("| | |\n|---|---|")
        L.append(f"| CPU | {m['cpu']}, {m['nproc']} cores (`nproc`) |")
        L.append(f"| kernel | {m['kernel']} (Debian {m['debian']}) |")
        L.append(f"| memory | {m['memory']} |")
        L.append(f"| load average (1/5/15 min) | start {' '.join(f'{x:.2f}' for x in s.load_start)}, "
                 f"end {' '.join(f'{x:.2f}' for x in s.load_end)} |")
        L.append(f"| open files (soft/hard) | {m['nofile'][0]:,} / {m['nofile'][1]:,} |")
        L.append(f"| pinning | proxy under test on CPU {s.proxy_cpu}; origin, load generator and clients on "
                 f"CPU {s.load_cpu} (`taskset`) |")
        L.append(f"| fairlead routes | {s.a.fairlead_routes}: the request walks them all and takes the last "
                 f"(`fairlead_routes`) |")
        L.append(f"| fairlead max_requests_per_endpoint | {s.a.fairlead_cap or '0 (no cap)'} |")
        for k in ("fairlead", "nginx", "haproxy", "wrk", "gnuplot", "python"):
            L.append(f"| {k} | {v[k]} |")
        L.append("")
        L.append("## Commands\n")
        L.append("RUNDIR is the temporary run directory (`--keep` keeps it; its `post-1mib.lua` is the "
                 "three-line upload script). PORT is the target's port: fairlead 19182, nginx 19183, HAProxy 19184, direct (origin) 19180; "
                 "scenario 7's TLS listeners 19193, 19194, 19195 and file servers 19196 (fairlead), 19197 (nginx); "
                 "for scenario 5 each proxy points at the origin's 5 s keep-alive server on 19181. Each "
                 "measured run is preceded, once per scenario and target, by a 1 s warm-up with the same "
                 "command. The configurations are written by `bench/run` (functions `origin_conf`, "
                 "`nginx_conf`, `haproxy_conf`, `fairlead_conf`).\n")
        L.append("```")
        for k, cmd in s.commands.items():
            L.append(f"# {k}\n{cmd}")
        L.append("```\n")

        def section(num, title, body):
            L.append(f"## {num}. {title}\n")
            L.append(body + "\n")

        if any(r["scenario"] == "ka50" for r in self.rows) or any(r["scenario"] == "ka1" for r in self.rows):
            body = []
            for key in ("ka50", "ka1"):
                if any(r["scenario"] == key for r in self.rows):
                    body.append(f"**{WRK[key]['title']}** — `wrk -t1 -c{WRK[key]['conns']} -d{s.dur(key)}s`, "
                                f"12-byte answers\n\n" + self.wrk_table(key, TARGETS) + "\n")
            section(1, "Small responses over keep-alive", "\n".join(body))
        if any(r["scenario"] == "close" for r in self.rows):
            section(2, "A new client connection per request",
                    f"`wrk -t1 -c50 -d{s.dur('close')}s -H 'Connection: close'`: every request opens a client "
                    "connection (upstream connections stay pooled)\n\n" + self.wrk_table("close", TARGETS))
        if any(r["scenario"] in ("get1m", "post1m") for r in self.rows):
            body = []
            for key in ("get1m", "post1m"):
                if any(r["scenario"] == key for r in self.rows):
                    body.append(f"**{WRK[key]['title']}** — `wrk -t1 -c{WRK[key]['conns']} -d{s.dur(key)}s`"
                                + (" with a Lua script sending a 1 MiB body" if key == "post1m" else "")
                                + "; MB = 10^6 bytes of body\n\n" + self.wrk_table(key, TARGETS) + "\n")
            section(3, "1 MiB responses and uploads", "\n".join(body))
        idle = self.idle_scenarios()
        if idle:
            cols = [("connections held", "idle_conns"), ("still open at the end", "idle_still_open"),
                    ("private KiB before", "priv_before_kib"), ("private KiB after", "priv_after_kib"),
                    ("KiB per idle connection", "kib_per_idle_conn"), ("connect errors", "errors"),
                    ("RSS MiB", "rss_mib")]
            body = ["A client (`bench/lib/idle_clients.py`, pinned with the load) opens N connections, sends one "
                    "GET on each, reads the answer and keeps the connection open. Private memory (USS: "
                    "Private_Clean + Private_Dirty from `/proc/PID/smaps_rollup`) of a freshly started proxy "
                    "is read before (after 20 warm-up requests) and 1 s after all N are idle. Kernel socket "
                    "buffers are not counted (they are the same for every proxy).\n"]
            for sc in idle:
                body.append(f"**{int(sc[4:]):,} idle connections**\n\n" + self.table(sc, PROXIES, cols) + "\n")
            section(4, "Idle keep-alive client connections", "\n".join(body))
        if any(r["scenario"] == "reuse" for r in self.rows):
            cols = [("requests", "requests"), ("new upstream connections", "upstream_new_conns"),
                    ("per 1,000 requests", "new_conns_per_1000"), ("failed requests", "errors"),
                    ("proxy CPU µs/req", "proxy_cpu_us_per_req")]
            section(5, "Upstream connection reuse against a 5 s keep-alive origin",
                    f"The origin's server on 19181 closes idle connections after 5 s (uvicorn's default). "
                    f"`bench/lib/paced_client.py`: 16 keep-alive client connections, ~200 requests/s for "
                    f"{s.reuse_duration} s, plus a burst from all 16 every 4.6–5.4 s (seeded; the same schedule "
                    f"for every proxy), so pooled upstream connections sit idle for about 5 s: the keep-alive "
                    f"race. New upstream connections are counted with the origin's `stub_status` accepts. "
                    f"Proxies as configured for the other scenarios except that fairlead runs with "
                    f"`retries: {{attempts: 1}}` as in config/sidecar.yaml, since the peers retry by default "
                    f"(fairlead: pool idle_timeout 4 s; nginx: upstream keepalive 64, default keepalive_timeout 60 s and "
                    f"proxy_next_upstream; HAProxy: http-reuse always, pool-max-conn 64, default retry-on). "
                    f"fairlead closes a pooled connection after 4 s idle, before the origin's 5 s, so it never "
                    f"sends on a connection the origin is closing; the price is a new connection for a burst "
                    f"that comes 4–5 s after the last one, where the peers still reuse (and rely on a retry "
                    f"when they lose the race).\n\n"
                    + self.table("reuse", PROXIES, cols))
        if any(r["scenario"].startswith("deploy-") for r in self.rows):
            section(6, "Deploy safety", DEPLOY_TEXT + "\n\n" + self.deploy_table())
        if any(r["scenario"] in ("tls50", "tlsnew", "tls-full", "tls-resumed", "static10k") for r in self.rows):
            body = ["Each proxy with a TLS listener in front of the same origin (plain HTTP behind it): the same "
                    "ECDSA P-256 certificate (`certs/make-dev-certs`), TLS 1.2 and 1.3, the same TLS 1.2 ciphers "
                    "(ECDHE with AES-GCM or ChaCha20-Poly1305) and groups (X25519, P-256, P-384), session tickets "
                    "(`configs.py`: `fairlead_tls_conf`, `nginx_tls_conf`, `haproxy_tls_conf`). wrk negotiates "
                    "TLS 1.3 (TLS_AES_256_GCM_SHA384, X25519) and, on a new connection, resumes the session "
                    "its previous one received a ticket for: with `Connection: close` every request is a new "
                    "connection and a resumed handshake. wrk's own CPU is the limit there (it runs on the "
                    "load CPU with the origin): compare the proxies' CPU per request.\n"]
            for key in ("tls50", "tlsnew"):
                if any(r["scenario"] == key for r in self.rows):
                    extra = " -H 'Connection: close'" if key == "tlsnew" else ""
                    body.append(f"**{WRK[key]['title']}** — `wrk -t1 -c{WRK[key]['conns']} -d{s.dur(key)}s{extra} "
                                f"https://…/`\n\n" + self.wrk_table(key, PROXIES) + "\n")
            cols = [("handshakes", "requests"), ("handshakes/s", "rps"), ("proxy CPU µs/handshake", "proxy_cpu_us_per_req")]
            for kind, how in (("full", "`openssl s_time -new` (TLS 1.3): a full handshake (X25519, ECDSA P-256) "
                                       "per connection"),
                              ("resumed", "`openssl s_time -reuse -tls1_2`: the client resumes its session from a "
                                          "ticket every time (s_time does not resume TLS 1.3 sessions)")):
                if any(r["scenario"] == f"tls-{kind}" for r in self.rows):
                    body.append(f"**{kind.capitalize()} handshakes alone** — {how}; one connection at a time, no "
                                "request, so the rate is bound by the round trip and the client; the proxy's CPU "
                                "per handshake is the comparison\n\n" + self.table(f"tls-{kind}", PROXIES, cols) + "\n")
            if any(r["scenario"] == "static10k" for r in self.rows):
                body.append(f"**{WRK['static10k']['title']}** — `wrk -t1 -c50 -d{s.dur('static10k')}s`, plain HTTP; "
                            "fairlead's `static` route against nginx's `root` with `sendfile on` (HAProxy serves "
                            "no files)\n\n" + self.wrk_table("static10k", ["fairlead", "nginx"]) + "\n")
            section(7, "TLS and static files", "\n".join(body))
        if any(r["scenario"] == "scaling" for r in self.rows):
            cols = [("requests/s", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"),
                    ("proxy CPU µs/req", "proxy_cpu_us_per_req"), ("proxy ÷ origin", "ratio_proxy_origin"),
                    ("errors", "errors")]
            section(8, "Scaling: fairlead workers: 1 vs workers: 2",
                    f"`wrk -t1 -c50 -d{s.dur('ka50')}s` small responses. workers: 1 is pinned to CPU "
                    f"{s.proxy_cpu}; workers: 2 may use both CPUs, so it competes with the origin and wrk on "
                    f"CPU {s.load_cpu}: on this 2-core machine the second worker mostly moves the bottleneck to "
                    f"the load generator, it does not double throughput.\n\n"
                    + self.table("scaling", ["fairlead-w1", "fairlead-w2"], cols))
        if any(r["scenario"] == "balance" for r in self.rows):
            cols = [("requests/s", "rps"), ("p50 ms", "p50_ms"), ("p99 ms", "p99_ms"),
                    ("sent to the slow endpoint %", "slow_share_pct"), ("proxy CPU µs/req", "proxy_cpu_us_per_req"),
                    ("errors", "errors")]
            section(9, "Balancing over a fast and a slow endpoint",
                    f"`wrk -t1 -c50 -d{s.dur('ka50')}s` small responses through a cluster of two endpoints: the "
                    f"origin, and `bench/lib/slow_origin.py`, which answers the same after {SLOW_DELAY_MS} ms. "
                    f"One worker each. A policy that notices the slow endpoint sends it less and keeps the "
                    f"median low; round robin sends it half of everything.\n\n"
                    + self.table("balance", BALANCE_TARGETS, cols))
        L.append("## Charts\n")
        for _name, title, fname in self.charts:
            L.append(f"![{title}]({fname})\n")
        notes = list(s.notes) + self.error_notes() + self.outlier_notes()
        L.append("## Notes\n")
        if notes:
            L += [n if n.startswith("- ") else f"- {n}" for n in notes]
        else:
            L.append("- No errors in any run.")
        L.append("")
        path = os.path.join(self.out, f"{self.date}.md")
        write(path, "\n".join(L))
        return path


SERIES_LABEL = {"fairlead": "fairlead", "nginx": "nginx", "haproxy": "HAProxy", "direct": "direct (no proxy)",
                "origin": "origin alone (direct runs)", "fairlead-w1": "workers: 1", "fairlead-w2": "workers: 2"}

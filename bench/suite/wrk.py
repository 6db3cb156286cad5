"""Running wrk and reading its output."""
import re


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def parse_wrk(out):
    r = {}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", out)
    if not m:
        raise ValueError("cannot parse wrk output:\n" + out)
    r["requests"] = int(m.group(1))
    r["duration_s"] = float(m.group(2)) * UNIT_MS[m.group(3)] / 1000.0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else None
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m|h)", out, re.M)
        r[f"p{pct}_ms"] = float(m.group(1)) * UNIT_MS[m.group(2)] if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    r["socket_errors_detail"] = (f"connect {m.group(1)} read {m.group(2)} write {m.group(3)} timeout {m.group(4)}"
                                 if m else "")
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    r["errors"] = r["socket_errors"] + r["non2xx"]
    return r

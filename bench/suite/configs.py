"""The configuration each proxy under test runs with, and the origin's."""


from .common import PORT_ORIGIN, PORT_ORIGIN_5S, PORT_ORIGIN_STATUS, PORT_SLOW


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def nginx_temp_paths(d):
    """nginx's temporary directories, inside the run directory (never the system's)."""
    return "".join(f"  {kind}_temp_path {d}/{sub};\n" for kind, sub in
                   (("client_body", "body"), ("proxy", "proxy"), ("fastcgi", "fastcgi"), ("uwsgi", "uwsgi"),
                    ("scgi", "scgi")))


def origin_conf(rd):
    return f"""# origin: nginx, 1 worker, pinned with the load generator
worker_processes 1;
pid {rd}/origin.pid;
error_log {rd}/origin.error.log warn;
events {{ worker_connections 30000; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  client_max_body_size 2m;
{nginx_temp_paths(f"{rd}/origin-tmp")}  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:{PORT_ORIGIN} backlog=4096;
    location = / {{ default_type text/plain; return 200 "hello world\\n"; }}
    location = /1m {{ root {rd}/www; }}
    # Uploads: read the whole body (in memory) before answering, like an app does. A bare `return 200`
    # answers before the body is read, and wrk then starts its next request over the unsent rest of
    # the body (read errors). The mirror's subrequest is what makes nginx read the body first.
    location = /upload {{
      client_body_buffer_size 2m;
      mirror /discard;
      mirror_request_body on;
      root {rd}/www;                   # www/upload exists: the static handler answers POST with 405 ...
      error_page 405 =200 /ok;         # ... turned into 200 "ok"
    }}
    location = /discard {{ internal; return 204; }}
    location = /ok {{ internal; default_type text/plain; return 200 "ok\\n"; }}
  }}
  server {{
    # like uvicorn: idle keep-alive connections are closed after 5 s
    listen 127.0.0.1:{PORT_ORIGIN_5S} backlog=4096;
    keepalive_timeout 5s;
    location / {{ default_type text/plain; return 200 "hello world\\n"; }}
  }}
  server {{
    listen 127.0.0.1:{PORT_ORIGIN_STATUS};
    keepalive_timeout 0;
    location = /status {{ stub_status; }}
  }}
}}
"""


def nginx_conf(rd, name, listen, upstream_port):
    return f"""# nginx as the proxy under test: 1 worker, upstream keep-alive, HTTP/1.1 to the origin, no access log
worker_processes 1;
pid {rd}/{name}.pid;
error_log {rd}/{name}.error.log warn;
events {{ worker_connections 30000; }}
http {{
  access_log off;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  client_max_body_size 0;
{nginx_temp_paths(f"{rd}/{name}-tmp")}  upstream origin {{
    server 127.0.0.1:{upstream_port};
    keepalive 64;
    keepalive_requests 100000000;
  }}
  server {{
    listen 127.0.0.1:{listen} backlog=4096;
    location / {{
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;     # stream uploads like the others (no spooling to disk)
      proxy_max_temp_file_size 0;      # never spool responses to disk
    }}
  }}
}}
"""


def haproxy_conf(listen, upstream_port):
    return f"""# HAProxy as the proxy under test: mode http, 1 thread, http-reuse always, no logging
global
  nbthread 1
  maxconn 30000
  no strict-limits        # warn (do not refuse to start) when ulimit -n is below 2 x maxconn

defaults
  mode http
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-request 30s
  timeout http-keep-alive 75s
  timeout queue 30s
  http-reuse always

frontend fe
  bind 127.0.0.1:{listen}
  maxconn 30000
  default_backend be

backend be
  server origin 127.0.0.1:{upstream_port} pool-max-conn 64
"""


def fairlead_routes(n):
    """n routes, the last the one every request takes: n-1 prefixes that do not match, walked first.
    0: no routes at all (everything to the first cluster)."""
    if n == 0:
        return ""
    lines = ["    routes:"]
    for i in range(n - 1):
        lines.append(f"      - {{ match: {{ path_prefix: /not-this-{i}/ }}, cluster: origin }}")
    lines.append("      - { match: { path_prefix: / }, cluster: origin }")
    return "\n".join(lines) + "\n"


def fairlead_conf(listen, upstream_port, workers=1, retries=0, routes=1, cap=0):
    return f"""# fairlead as the proxy under test (see config/bench.yaml)
workers: {workers}
admin: {{ address: 127.0.0.1:0 }}   # two fairleads run at once in scenario 8
listeners:
  - name: bench
    address: 127.0.0.1:{listen}
{fairlead_routes(routes)}clusters:
  - name: origin
    endpoints:
      - address: 127.0.0.1:{upstream_port}
    connect_timeout: 2s
    response_timeout: 60s
    idle_timeout: 4s
    max_idle_per_endpoint: 64
    retries:
      attempts: {retries}
    max_requests_per_endpoint: {cap}
timeouts:
  request_header: 10s
  keepalive_idle: 75s
  request_body_idle: 30s
limits:
  max_request_header_bytes: 32KiB
  max_request_body_bytes: 0
  max_connections: 30000
log:
  level: warn
  access: off
"""


def balance_conf(target, listen):
    """Scenario 9: two endpoints, the origin and the slow one, under each proxy's own policy."""
    if target in ("fairlead-rr", "fairlead-lr"):
        policy = "round_robin" if target == "fairlead-rr" else "least_request"
        return f"""# fairlead, scenario 9: balance {policy} over a fast and a slow endpoint
workers: 1
admin: {{ address: 127.0.0.1:0 }}
listeners:
  - {{ name: bench, address: 127.0.0.1:{listen} }}
clusters:
  - name: origin
    endpoints:
      - address: 127.0.0.1:{PORT_ORIGIN}
      - address: 127.0.0.1:{PORT_SLOW}
    balance: {policy}
    retries: {{ attempts: 0 }}
limits: {{ max_connections: 30000 }}
log: {{ level: warn, access: off }}
"""
    if target == "haproxy-lc":
        return haproxy_conf(listen, PORT_ORIGIN).replace(
            f"  server origin 127.0.0.1:{PORT_ORIGIN} pool-max-conn 64\n",
            f"  balance leastconn\n  server origin 127.0.0.1:{PORT_ORIGIN} pool-max-conn 64\n"
            f"  server slow 127.0.0.1:{PORT_SLOW} pool-max-conn 64\n")
    raise ValueError(target)


# Scenario 7: every proxy gets the same ECDSA P-256 certificate, TLS 1.2 and 1.3, the same TLS 1.2
# ciphers and groups as fairlead's built-in ones (net/tls_context.cpp), and session tickets.
TLS_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
               "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
TLS_GROUPS = "X25519:P-256:P-384"


def fairlead_tls_conf(listen, upstream_port, cert, key):
    return fairlead_conf(listen, upstream_port).replace(
        f"    address: 127.0.0.1:{listen}\n",
        f"    address: 127.0.0.1:{listen}\n    tls:\n      certificates: [{{ cert: {cert}, key: {key} }}]\n")


def nginx_tls_conf(rd, name, listen, upstream_port, cert, key):
    return nginx_conf(rd, name, listen, upstream_port).replace(
        f"    listen 127.0.0.1:{listen} backlog=4096;\n",
        f"    listen 127.0.0.1:{listen} ssl backlog=4096;\n"
        f"    ssl_certificate {cert};\n    ssl_certificate_key {key};\n"
        f"    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers {TLS_CIPHERS};\n"
        f"    ssl_prefer_server_ciphers on;\n    ssl_ecdh_curve {TLS_GROUPS.replace('P-256', 'prime256v1').replace('P-384', 'secp384r1')};\n"
        f"    ssl_session_tickets on;\n")


def haproxy_tls_conf(listen, upstream_port, pem):
    return haproxy_conf(listen, upstream_port).replace(
        f"  bind 127.0.0.1:{listen}\n",
        f"  bind 127.0.0.1:{listen} ssl crt {pem} alpn http/1.1 ssl-min-ver TLSv1.2 ciphers {TLS_CIPHERS} "
        f"curves {TLS_GROUPS}\n")


def fairlead_static_conf(listen, upstream_port, root):
    return fairlead_conf(listen, upstream_port, routes=0).replace(
        f"    address: 127.0.0.1:{listen}\n",
        f"    address: 127.0.0.1:{listen}\n    routes:\n      - static: {{ root: {root} }}\n")


def nginx_static_conf(rd, name, listen, root):
    return f"""# nginx serving files: 1 worker, sendfile, no access log
worker_processes 1;
pid {rd}/{name}.pid;
error_log {rd}/{name}.error.log warn;
events {{ worker_connections 30000; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 75s;
  keepalive_requests 100000000;
  default_type application/octet-stream;
{nginx_temp_paths(f"{rd}/{name}-tmp")}  server {{
    listen 127.0.0.1:{listen} backlog=4096;
    location / {{ root {root}; }}
  }}
}}
"""

// fairlead::Config: the whole configuration as plain values. Built by loadConfigFile() from YAML or
// by an embedder in code; validated before a Proxy is created. Copied freely; no thread affinity.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fairlead/result.hpp>

namespace fairlead {

using Millis = std::chrono::milliseconds;

// host:port as written in the config; "0.0.0.0:8080", "[::1]:9000", "app.internal:8000".
struct HostPort {
  std::string host;  // an IPv6 literal without brackets ("::1"); toString() adds them back
  std::uint16_t port = 0;
  std::string toString() const;

  bool operator==(const HostPort&) const = default;
};

// A header as a route matches it or a `respond` action sends it.
struct HeaderField {
  std::string name;
  std::string value;
};

// What a request must look like for its route to answer it; every condition given must hold, and
// an empty one holds for every request.
struct RouteMatch {
  std::string host;         // "api.example.com" or "*.example.com"; case and port are ignored
  std::string path_prefix;  // on segment boundaries of the normalized path: /api matches /api/x
  std::string path;         // the whole normalized path, without the query
  std::vector<std::string> methods;
  std::vector<HeaderField> headers;  // name case-insensitive, value exact
};

struct RespondAction {
  std::uint16_t status = 200;
  std::string body;
  std::vector<HeaderField> headers;
};

struct RedirectAction {
  std::string to;  // the Location; "{path}" and "{query}" are replaced from the request
  std::uint16_t status = 308;
};

// Files under root, answered by fairlead itself (GET and HEAD). Paths in the config are relative
// to the directory fairlead was started in.
struct StaticAction {
  std::string root;
  std::string index = "index.html";  // answers a request for a directory ("/", "/docs/")
  // A path that names no file and whose request accepts text/html gets root/index (a client-side
  // router's URL); a missing asset (no text/html in Accept) stays a 404.
  bool spa_fallback = false;
};

enum class RouteAction : std::uint8_t { Cluster, Respond, Redirect, Static };

struct Route {
  RouteMatch match;
  RouteAction action = RouteAction::Cluster;
  std::string cluster;        // Cluster: its name; empty: the first cluster
  bool strip_prefix = false;  // Cluster: the app gets the path without match.path_prefix
  RespondAction respond;
  RedirectAction redirect;
  StaticAction static_files;  // `static` in the file
};

struct CertificateConfig {
  std::string cert;  // PEM: the certificate, then its chain
  std::string key;   // PEM private key

  bool operator==(const CertificateConfig&) const = default;
};

enum class TlsVersion : std::uint8_t { Tls12, Tls13 };

// TLS on a listener. Certificate and key files are read again at every reload.
struct ListenerTlsConfig {
  // Chosen by the name the client asks for (SNI), exact names before wildcards; the first is the
  // default for clients that ask for none or for a name no certificate has.
  std::vector<CertificateConfig> certificates;
  TlsVersion min_version = TlsVersion::Tls12;
  std::vector<std::string> alpn{"http/1.1"};  // in our order of preference
  Millis hsts{0};  // >0: responses carry Strict-Transport-Security: max-age=(this, in seconds)

  bool operator==(const ListenerTlsConfig&) const = default;
};

struct ListenerConfig {
  std::string name = "public";
  HostPort address{"0.0.0.0", 8080};
  std::vector<Route> routes;
  std::optional<ListenerTlsConfig> tls;  // none: plain HTTP
  // Not 0: every request is answered 308 to https://HOST:PORT/PATH?QUERY (":443" left out); such
  // a listener has no routes.
  std::uint16_t redirect_to_https = 0;
};

struct EndpointConfig {
  HostPort address;
  std::uint32_t weight = 1;

  bool operator==(const EndpointConfig&) const = default;
};

enum class BalancePolicy : std::uint8_t { RoundRobin, LeastRequest, Random, Hash };

struct RetryConfig {
  std::uint32_t attempts = 1;  // extra attempts after the first, for safe retries only
  // With the attempts spent and the connection refused (the app restarting): how long a request
  // may wait for it, connecting again with a backoff. 0: fail at once, with a 502.
  Millis wait_while_refused{0};

  bool operator==(const RetryConfig&) const = default;
};

// Requests beyond max_requests_per_endpoint wait here, first come first served, across workers.
struct QueueConfig {
  std::uint32_t max = 1000;  // waiting requests per cluster; one more is answered 503
  Millis timeout{5000};      // a request that waited this long is answered 503

  bool operator==(const QueueConfig&) const = default;
};

// Active checks, from the control thread: one probe per endpoint every interval (plus jitter).
struct HealthCheckConfig {
  std::string path = "/healthz";  // GET this; ignored with tcp
  bool tcp = false;               // a completed TCP connect is the whole check
  std::string host;               // the Host header; empty: the endpoint's host:port
  Millis interval{5000};
  Millis timeout{2000};
  std::uint32_t jitter_percent = 10;  // each wait is interval + up to this share of it, at random
  std::uint32_t healthy_threshold = 2;
  std::uint32_t unhealthy_threshold = 2;
  std::uint16_t expected_status_min = 200;
  std::uint16_t expected_status_max = 399;

  bool operator==(const HealthCheckConfig&) const = default;
};

// Passive checks: what workers see on real requests.
struct OutlierConfig {
  std::uint32_t consecutive_failures = 5;  // 0: never eject
  Millis ejection_time{30000};             // times the number of ejections so far
  std::uint32_t max_ejection_percent = 50; // of the cluster's endpoints, rounded down

  bool operator==(const OutlierConfig&) const = default;
};

// TLS toward the app's endpoints.
struct UpstreamTlsConfig {
  bool enabled = false;
  bool verify = true;  // the endpoint's certificate must chain to `ca` and name `sni` (or its host)
  std::string ca;      // PEM bundle; empty: the system's trust store
  std::string sni;     // the name sent and verified; empty: the endpoint's host when it is a name

  bool operator==(const UpstreamTlsConfig&) const = default;
};

struct ClusterConfig {
  std::string name = "app";
  std::vector<EndpointConfig> endpoints;
  BalancePolicy balance = BalancePolicy::RoundRobin;
  std::string hash_on;  // hash: client_ip | header:NAME | cookie:NAME
  Millis connect_timeout{2000};
  Millis response_timeout{60000};  // until the first byte of the response head
  Millis idle_timeout{4000};       // pooled upstream connections; below uvicorn's 5 s keep-alive
  std::uint32_t max_idle_per_endpoint = 64;  // per worker
  RetryConfig retries;
  std::uint32_t max_requests_per_endpoint = 0;  // 0: unlimited; across all workers
  std::optional<QueueConfig> queue;             // needs max_requests_per_endpoint; default {1000, 5s}
  std::optional<HealthCheckConfig> health_check;
  OutlierConfig outlier_detection;
  std::uint32_t panic_threshold_percent = 50;  // fewer healthy than this: all endpoints take requests
  Millis slow_start{0};                        // a recovered or new endpoint's weight ramps over this
  Millis dns_refresh{30000};                   // endpoint names are resolved again this often
  UpstreamTlsConfig tls;

  bool operator==(const ClusterConfig&) const = default;
};

struct ClientTimeouts {
  Millis request_header{10000};
  Millis keepalive_idle{75000};
  Millis request_body_idle{30000};
  Millis response_send_idle{60000};  // the client must take response bytes at least this often
};

struct Limits {
  std::uint64_t max_request_header_bytes = 32 * 1024;
  std::uint64_t max_request_body_bytes = 0;  // 0: unlimited
  std::uint64_t max_connections = 20000;
};

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8. Addresses are kept in network byte order.
struct Cidr {
  bool v6 = false;
  std::uint8_t bytes[16] = {};
  std::uint8_t prefix = 0;
};

struct ForwardingConfig {
  std::vector<Cidr> trusted_proxies;
  std::string request_id_header = "X-Request-Id";
};

// What a drain (SIGTERM, Proxy::drain) takes, in order: delay, then timeout, inside budget.
struct DrainConfig {
  Millis delay{0};        // listeners stay open, traffic is served (the ALB deregisters the target)
  Millis timeout{25000};  // then listeners close and requests in flight get this long
  Millis budget{30000};   // the platform's SIGKILL deadline (ECS stopTimeout); delay + timeout fit in it
};

// The admin listener (/live, /ready, /metrics, /clusters, POST /drain): on the control thread.
struct AdminConfig {
  HostPort address{"127.0.0.1", 9901};
  // Bearer token for everything but /live and /ready (which health checkers must reach without
  // one); required when the address is not loopback. Empty: no token.
  std::string token;
};

// The app fairlead supervises as PID 1 (`-- COMMAND` or app.command).
struct AppConfig {
  std::vector<std::string> command;  // argv; empty: nothing is started (then ready_cluster still counts)
  int stop_signal = SIGTERM;         // sent once clients are drained
  // Then SIGKILL. Short by default: the app gets its signal only after every client request has
  // ended, so it has nothing left in flight; and 0 + 25 s + 5 s fits the default 30 s budget.
  Millis stop_timeout{5000};
  std::string ready_cluster;         // /ready waits for this cluster to have a healthy endpoint; "": none
  // SIGHUP reloads fairlead; passing it on too is for apps that reload on it (gunicorn). Off by
  // default: Python's default action for SIGHUP ends the process, so uvicorn would die at every
  // reload. SIGUSR1 and SIGUSR2 are always passed on.
  bool forward_sighup = false;

  bool operator==(const AppConfig&) const = default;
};

enum class AccessLogFormat : std::uint8_t { Json, Text, Off };

struct LogConfig {
  std::string level = "info";  // trace | debug | info | warn | error | critical | off
  AccessLogFormat access = AccessLogFormat::Json;
};

struct Config {
  std::uint32_t workers = 0;  // 0: one per core ("auto")
  std::vector<ListenerConfig> listeners;
  std::vector<ClusterConfig> clusters;
  ClientTimeouts timeouts;
  Limits limits;
  ForwardingConfig forwarding;
  DrainConfig drain;
  std::optional<AdminConfig> admin;  // none: no admin listener (Config::defaults() has one on 127.0.0.1:9901)
  std::optional<AppConfig> app;      // none: no app, and drain.budget leaves no time for one
  LogConfig log;

  // The built-in defaults (docs/configuration.md): 0.0.0.0:8080 in front of one cluster at
  // 127.0.0.1:8000, and the admin listener on 127.0.0.1:9901.
  static Config defaults();
};

// Every mistake in the file, each as "FILE:LINE:COL: message", in file order.
struct ConfigErrors {
  std::vector<std::string> messages;
};

// Parses YAML, substitutes ${VAR} / ${VAR:-default} from the environment, validates. On failure the
// Error's detail holds every message, one per line.
// `warnings`, when given, receives "FILE:LINE:COL: warning: message" lines for a config that
// loads but probably does not do what was meant (a route no request can reach).
Result<Config> loadConfigFile(const std::string& path, std::vector<std::string>* warnings = nullptr);
Result<Config> loadConfigString(const std::string& yaml, const std::string& name = "<string>",
                                std::vector<std::string>* warnings = nullptr);

// Validation an embedder's hand-built Config gets too (no line numbers: there is no file).
Result<> validateConfig(const Config& config);

}  // namespace fairlead

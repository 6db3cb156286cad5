// The config schema through the loader: every key, every error path, each with its line:col.
#include "config/schema.hpp"

#include <map>
#include <sstream>

#include <csignal>

#include <gtest/gtest.h>

#include "config/address.hpp"
#include "config/loader.hpp"

namespace fairlead::config {
namespace {

using Env = std::map<std::string, std::string>;
using Lines = std::vector<std::string>;

EnvLookup fakeEnv(Env vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Config load(std::string_view yaml, Env env = {}) {
  auto config = loadConfigText(yaml, "t.yaml", fakeEnv(std::move(env)));
  EXPECT_TRUE(config) << config.error().detail;
  return config ? *config : Config{};
}

Lines errors(std::string_view yaml, Env env = {}) {
  auto config = loadConfigText(yaml, "t.yaml", fakeEnv(std::move(env)));
  EXPECT_FALSE(config) << "the config loaded";
  if (config) return {};
  EXPECT_EQ(config.error().code, Errc::ConfigInvalid);
  Lines lines;
  std::istringstream in(config.error().detail);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// --- the top level ------------------------------------------------------------------------------

TEST(Schema, EmptyDocumentIsTheDefaults) {
  const Config c = load("");
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address.toString(), "0.0.0.0:8080");
  ASSERT_EQ(c.clusters.size(), 1u);
  EXPECT_EQ(c.clusters[0].name, "app");
  EXPECT_EQ(load("# only a comment\n").clusters.size(), 1u);
}

TEST(Schema, TopLevelMustBeAMapping) {
  EXPECT_EQ(errors("- a\n- b\n"), Lines{"t.yaml:1:1: the config must be a mapping (key: value), not a list"});
  EXPECT_EQ(errors("just words\n"), Lines{"t.yaml:1:1: the config must be a mapping (key: value), not a single value"});
}

TEST(Schema, OmittedSectionsKeepTheirDefaults) {
  const Config c = load("workers: 2\n");
  const Config d = Config::defaults();
  EXPECT_EQ(c.timeouts.request_header, d.timeouts.request_header);
  EXPECT_EQ(c.timeouts.keepalive_idle, Millis(75000));
  EXPECT_EQ(c.limits.max_request_header_bytes, 32u * 1024);
  EXPECT_EQ(c.limits.max_connections, 20000u);
  EXPECT_EQ(c.forwarding.request_id_header, "X-Request-Id");
  EXPECT_TRUE(c.forwarding.trusted_proxies.empty());
  EXPECT_EQ(c.log.level, "info");
  EXPECT_EQ(c.log.access, AccessLogFormat::Json);
  EXPECT_EQ(c.clusters[0].endpoints[0].address.toString(), "127.0.0.1:8000");
}

TEST(Schema, NullSectionMeansAllDefaults) {
  const Config c = load("timeouts:\n  # request_header: 5s\nlimits: ~\n");
  EXPECT_EQ(c.timeouts.request_header, Millis(10000));
}

// --- workers ------------------------------------------------------------------------------------

TEST(Schema, WorkersAutoOrANumber) {
  EXPECT_EQ(load("workers: auto\n").workers, 0u);
  EXPECT_EQ(load("workers: 4\n").workers, 4u);
  EXPECT_EQ(load("workers: \"1\"\n").workers, 1u);
  EXPECT_EQ(load("workers: 1024\n").workers, 1024u);
}

TEST(Schema, WorkersOutOfRange) {
  EXPECT_EQ(errors("workers: 0\n"), Lines{"t.yaml:1:10: workers must be auto or between 1 and 1024"});
  EXPECT_EQ(errors("workers: 1025\n"), Lines{"t.yaml:1:10: workers must be auto or between 1 and 1024"});
  EXPECT_EQ(errors("workers: 99999999999999999999\n"), Lines{"t.yaml:1:10: workers must be auto or between 1 and 1024"});
  EXPECT_EQ(errors("workers: four\n"), Lines{"t.yaml:1:10: workers must be auto or a number, not 'four'"});
  EXPECT_EQ(errors("workers: -1\n"), Lines{"t.yaml:1:10: workers must be auto or a number, not '-1'"});
  EXPECT_EQ(errors("workers: 2.5\n"), Lines{"t.yaml:1:10: workers must be auto or a number, not '2.5'"});
  EXPECT_EQ(errors("workers: Auto\n"), Lines{"t.yaml:1:10: workers must be auto or a number, not 'Auto'"});
}

// --- types --------------------------------------------------------------------------------------

TEST(Schema, WrongTypesAreReportedAtTheValue) {
  EXPECT_EQ(errors("workers: [1, 2]\n"), Lines{"t.yaml:1:10: 'workers' must be a single value, not a list"});
  EXPECT_EQ(errors("timeouts: 5s\n"), Lines{"t.yaml:1:11: 'timeouts' must be a mapping (key: value), not a single value"});
  EXPECT_EQ(errors("listeners: {name: a}\n"), Lines{"t.yaml:1:12: 'listeners' must be a list, not a mapping"});
  EXPECT_EQ(errors("listeners:\n  - just-a-string\n"),
            Lines{"t.yaml:2:5: 'listeners[0]' must be a mapping (key: value), not a single value"});
  EXPECT_EQ(errors("log:\n  level: {a: 1}\n"), Lines{"t.yaml:2:10: 'level' must be a single value, not a mapping"});
}

TEST(Schema, EmptyValuesAreReportedAtTheKey) {
  EXPECT_EQ(errors("workers:\nlog: {}\n"), Lines{"t.yaml:1:1: 'workers' needs a value"});
  EXPECT_EQ(errors("timeouts:\n  request_header: ~\n"), Lines{"t.yaml:2:3: 'request_header' needs a value"});
  EXPECT_EQ(errors("listeners:\n# - name: public\n"), Lines{"t.yaml:1:1: 'listeners' needs a value (write [] for none)"});
}

TEST(Schema, KeysMustBePlainNames) {
  EXPECT_EQ(errors("? [a, b]\n: 1\n"), Lines{"t.yaml:1:3: keys in the config must be plain names, not a list"});
}

TEST(Schema, DuplicateKeysAreReported) {
  EXPECT_EQ(errors("workers: 2\nlog: {}\nworkers: 3\n"), Lines{"t.yaml:3:1: duplicate key 'workers' (first at line 1)"});
}

TEST(Schema, MoreThanOneDocumentIsAnError) {
  EXPECT_EQ(errors("workers: 2\n---\nworkers: 3\n"), Lines{"t.yaml:3:1: only one YAML document is allowed"});
  EXPECT_EQ(load("workers: 2\n---\n").workers, 2u);  // a trailing separator holds nothing
}

// yaml-cpp 0.7 alone loops without end, allocating, on these (found by tests/fuzz/config_fuzz.cpp):
// a reload of such a file must fail like any other mistake, not take the process's memory.
TEST(Schema, YamlThatStallsTheParserIsAnError) {
  EXPECT_EQ(errors(","), Lines{"t.yaml:1:1: not valid YAML here"});
  EXPECT_EQ(errors(" ,- name: public\n"), Lines{"t.yaml:1:2: not valid YAML here"});
  EXPECT_EQ(errors("workers: 2\n---\n, x\n"), Lines{"t.yaml:3:1: not valid YAML here"});
}

// --- unknown and not-yet-supported keys ---------------------------------------------------------

TEST(Schema, UnknownKeysSuggestACloseMatch) {
  EXPECT_EQ(errors("wokers: 2\n"), Lines{"t.yaml:1:1: unknown key 'wokers' in the config (did you mean 'workers'?)"});
  EXPECT_EQ(errors("backends: []\n"), Lines{"t.yaml:1:1: unknown key 'backends' in the config"});
  EXPECT_EQ(errors("timeouts:\n  request_headers: 5s\n"),
            Lines{"t.yaml:2:3: unknown key 'request_headers' in timeouts (did you mean 'request_header'?)"});
  EXPECT_EQ(errors("clusters:\n  - name: app\n    endpoints:\n      - {address: 127.0.0.1:1, wieght: 2}\n"),
            Lines{"t.yaml:4:32: unknown key 'wieght' in clusters[0].endpoints[0] (did you mean 'weight'?)"});
  EXPECT_EQ(errors("clusters:\n  - name: app\n    endpoints: [{address: 127.0.0.1:1}]\n    retries: {atempts: 2}\n"),
            Lines{"t.yaml:4:15: unknown key 'atempts' in clusters[0].retries (did you mean 'attempts'?)"});
}

TEST(Schema, AMisspeltRequiredKeyIsOneMistake) {
  EXPECT_EQ(errors("listeners:\n  - name: public\n    adress: 0.0.0.0:8080\n"),
            Lines{"t.yaml:3:5: unknown key 'adress' in listeners[0] (did you mean 'address'?)"});
}

constexpr const char* kCluster = "clusters:\n  - name: app\n    endpoints: [{address: 127.0.0.1:8000}]\n";

TEST(Schema, ReadsTlsAndTheHttpsRedirect) {
  const Config c = load(R"(listeners:
  - name: https
    address: 0.0.0.0:8443
    tls:
      certificates:
        - { cert: certs/a.crt, key: certs/a.key }
        - { cert: certs/b.crt, key: certs/b.key }
      min_version: TLSv1.3
      alpn: [http/1.1]
      hsts: 24h
  - name: redirect
    address: 0.0.0.0:8080
    redirect_to_https: 8443
clusters:
  - name: app
    endpoints: [{ address: app.internal:8443 }]
)");
  ASSERT_TRUE(c.listeners[0].tls.has_value());
  const ListenerTlsConfig& tls = *c.listeners[0].tls;
  ASSERT_EQ(tls.certificates.size(), 2u);
  EXPECT_EQ(tls.certificates[1].cert, "certs/b.crt");
  EXPECT_EQ(tls.certificates[1].key, "certs/b.key");
  EXPECT_EQ(tls.min_version, TlsVersion::Tls13);
  EXPECT_EQ(tls.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_EQ(tls.hsts, std::chrono::hours(24));
  EXPECT_FALSE(c.listeners[1].tls.has_value());
  EXPECT_EQ(c.listeners[1].redirect_to_https, 8443);
}

TEST(Schema, ReadsUpstreamTls) {
  const Config c = load(R"(clusters:
  - name: app
    endpoints: [{ address: app.internal:8443 }]
    tls: { verify: false, ca: certs/ca.crt, sni: app.example.com }
  - name: off
    endpoints: [{ address: 127.0.0.1:8000 }]
)");
  const UpstreamTlsConfig& up = c.clusters[0].tls;
  EXPECT_TRUE(up.enabled);  // a tls section turns it on
  EXPECT_FALSE(up.verify);
  EXPECT_EQ(up.ca, "certs/ca.crt");
  EXPECT_EQ(up.sni, "app.example.com");
  EXPECT_FALSE(c.clusters[1].tls.enabled);
  EXPECT_TRUE(c.clusters[1].tls.verify);  // on by default
  EXPECT_EQ(errors(std::string(kCluster) + "    tls: { sni: 10.0.0.1 }\n"),
            Lines{"t.yaml:4:17: sni '10.0.0.1' must be a host name"});
}

TEST(Schema, TlsMistakesAreReportedAtTheirKey) {
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:8443\n    tls: {}\n"),
            Lines{"t.yaml:4:10: tls needs 'certificates'"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:8443\n    tls:\n      certificates: [{cert: a.crt}]\n"),
            Lines{"t.yaml:5:22: certificate needs 'key'"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:8443\n    tls:\n"
                   "      certificates: [{cert: a.crt, key: a.key}]\n      min_version: TLSv1.1\n"),
            Lines{"t.yaml:6:20: unknown min_version 'TLSv1.1' (expected TLSv1.2 or TLSv1.3; did you mean 'TLSv1.2'?)"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:8443\n    tls:\n"
                   "      certificates: [{cert: a.crt, key: a.key}]\n      alpn: [h2]\n"),
            Lines{"t.yaml:6:14: fairlead speaks http/1.1 and http/1.0, not 'h2': a client that chose it would be "
                  "answered in HTTP/1.1"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:8080\n    redirect_to_https: 0\n"),
            Lines{"t.yaml:4:24: redirect_to_https is the HTTPS port to redirect to (443, 8443)"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:8080\n    redirect_to_https: 8443\n"
                   "    routes: [{cluster: app}]\n"),
            Lines{"t.yaml:5:13: a redirect_to_https listener answers every request with a redirect: it has no routes"});
}

TEST(Schema, ReadsTheHealthAndCapacityKeys) {
  const Config c = load(R"(clusters:
  - name: app
    endpoints: [{ address: 127.0.0.1:8000 }]
    max_requests_per_endpoint: 4
    queue: { max: 32, timeout: 750ms }
    health_check:
      path: /healthz
      host: app.internal
      interval: 2s
      timeout: 500ms
      jitter: 20%
      healthy_threshold: 3
      unhealthy_threshold: 1
      expected_status: 200-299
    outlier_detection: { consecutive_failures: 3, ejection_time: 10s, max_ejection_percent: 34 }
    panic_threshold: 0%
    slow_start: 20s
    dns_refresh: 5s
  - name: tcp
    endpoints: [{ address: 127.0.0.1:8001 }]
    health_check: { tcp: true, expected_status: 204 }
)");
  const ClusterConfig& app = c.clusters[0];
  EXPECT_EQ(app.max_requests_per_endpoint, 4u);
  ASSERT_TRUE(app.queue.has_value());
  EXPECT_EQ(app.queue->max, 32u);
  EXPECT_EQ(app.queue->timeout, Millis(750));
  ASSERT_TRUE(app.health_check.has_value());
  EXPECT_EQ(app.health_check->path, "/healthz");
  EXPECT_EQ(app.health_check->host, "app.internal");
  EXPECT_EQ(app.health_check->interval, Millis(2000));
  EXPECT_EQ(app.health_check->timeout, Millis(500));
  EXPECT_EQ(app.health_check->jitter_percent, 20u);
  EXPECT_EQ(app.health_check->healthy_threshold, 3u);
  EXPECT_EQ(app.health_check->unhealthy_threshold, 1u);
  EXPECT_EQ(app.health_check->expected_status_min, 200);
  EXPECT_EQ(app.health_check->expected_status_max, 299);
  EXPECT_EQ(app.outlier_detection.consecutive_failures, 3u);
  EXPECT_EQ(app.outlier_detection.ejection_time, Millis(10000));
  EXPECT_EQ(app.outlier_detection.max_ejection_percent, 34u);
  EXPECT_EQ(app.panic_threshold_percent, 0u);
  EXPECT_EQ(app.slow_start, Millis(20000));
  EXPECT_EQ(app.dns_refresh, Millis(5000));
  ASSERT_TRUE(c.clusters[1].health_check.has_value());
  EXPECT_TRUE(c.clusters[1].health_check->tcp);
  EXPECT_EQ(c.clusters[1].health_check->expected_status_min, 204);
  EXPECT_EQ(c.clusters[1].health_check->expected_status_max, 204);
  // Left out: no cap, no queue, no active checks; passive checks on with their defaults.
  EXPECT_EQ(c.clusters[1].max_requests_per_endpoint, 0u);
  EXPECT_FALSE(c.clusters[1].queue.has_value());
  EXPECT_EQ(c.clusters[1].outlier_detection.consecutive_failures, 5u);
  EXPECT_EQ(c.clusters[1].panic_threshold_percent, 50u);
}

TEST(Schema, HealthAndCapacityMistakesAreErrorsAtTheirKeys) {
  const std::string app = "clusters:\n  - name: app\n    endpoints: [{address: 127.0.0.1:8000}]\n";
  EXPECT_EQ(errors(app + "    health_check: {path: healthz}\n"),
            Lines{"t.yaml:4:26: health check path 'healthz' must start with '/'"});
  EXPECT_EQ(errors(app + "    health_check: {healthy_threshold: 0, unhealthy_threshold: 0}\n"),
            (Lines{"t.yaml:4:39: healthy_threshold must be at least 1",
                   "t.yaml:4:63: unhealthy_threshold must be at least 1"}));
  EXPECT_EQ(errors(app + "    outlier_detection: {max_ejection_percent: 120%}\n"),
            Lines{"t.yaml:4:47: max_ejection_percent must be between 0% and 100%"});
  EXPECT_EQ(errors(app + "    queue: {max: 10}\n"),
            Lines{"t.yaml:4:12: a queue needs max_requests_per_endpoint: requests only wait for a cap"});
  EXPECT_EQ(errors(app + "    panic_threshold: half\n"),
            Lines{"t.yaml:4:22: 'panic_threshold' must be a percentage such as 50%, not 'half'"});
  EXPECT_EQ(errors(app + "    health_check: {expected_status: 399-200}\n"),
            Lines{"t.yaml:4:37: expected_status must be a status or a range such as 200-399, not '399-200'"});
  EXPECT_EQ(errors(app + "    health_check: {interval: 0s}\n"), Lines{"t.yaml:4:30: interval must be greater than 0"});
}

TEST(Schema, ReadsTheAdminAndAppKeys) {
  const Config defaults = load("workers: 1\n");
  ASSERT_TRUE(defaults.admin.has_value());
  EXPECT_EQ(defaults.admin->address.toString(), "127.0.0.1:9901");
  EXPECT_FALSE(defaults.app.has_value());

  const Config c = load(std::string(kCluster) + R"(admin: { address: "[::]:9902", token: s3cret }
app:
  command: [uvicorn, app.main:app, --port, "8000"]
  stop_signal: SIGINT
  stop_timeout: 4s
  ready_cluster: app
drain: { timeout: 20s }
)");
  EXPECT_EQ(c.admin->address.toString(), "[::]:9902");
  EXPECT_EQ(c.admin->token, "s3cret");
  ASSERT_TRUE(c.app.has_value());
  EXPECT_EQ(c.app->command, (std::vector<std::string>{"uvicorn", "app.main:app", "--port", "8000"}));
  EXPECT_EQ(c.app->stop_signal, SIGINT);
  EXPECT_EQ(c.app->stop_timeout, Millis(4000));
  EXPECT_EQ(load(std::string(kCluster) + "app: { ready_cluster: app }\n").app->stop_timeout, Millis(5000));
  EXPECT_EQ(c.app->ready_cluster, "app");
}

TEST(Schema, AdminAndAppMistakesAreErrorsAtTheirKeys) {
  EXPECT_EQ(errors("admin: { address: 0.0.0.0:9901 }\n"),
            Lines{"t.yaml:1:19: the admin address 0.0.0.0:9901 is reachable from other hosts: set admin.token (a "
                  "bearer token, e.g. token: ${FAIRLEAD_ADMIN_TOKEN}) or bind it to 127.0.0.1"});
  EXPECT_EQ(errors("admin: { address: localhost:9901 }\n"),
            Lines{"t.yaml:1:19: admin address 'localhost' must be an IP address (127.0.0.1 keeps it to this host)"});
  EXPECT_EQ(errors("listeners: [{name: a, address: 127.0.0.1:9901}]\n"),
            Lines{"t.yaml: listener a on 127.0.0.1:9901 takes the admin address 127.0.0.1:9901 (set admin.address to "
                  "another port)"});
  EXPECT_EQ(errors("listeners: [{name: a, address: 0.0.0.0:9901}]\n"),
            Lines{"t.yaml: listener a on 0.0.0.0:9901 takes the admin address 127.0.0.1:9901 (set admin.address to "
                  "another port)"});
  // Without a command there is no app to stop: its stop_timeout does not count.
  EXPECT_EQ(load(std::string(kCluster) + "app: { ready_cluster: app }\ndrain: { delay: 5s, timeout: 25s }\n").drain.timeout,
            Millis(25000));
  EXPECT_EQ(errors(std::string(kCluster) + "app: { ready_cluster: api }\n"),
            Lines{"t.yaml:4:23: ready_cluster 'api' is not a cluster"});
  EXPECT_EQ(errors("app: { stop_signal: SIGKILL }\n"),
            Lines{"t.yaml:1:21: unknown stop_signal 'SIGKILL' (expected SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1 or SIGUSR2)"});
  // The app is stopped after the clients are drained: its stop_timeout counts against the budget.
  EXPECT_EQ(errors("drain: { delay: 5s, timeout: 20s }\napp: { command: [sleep, \"9\"], stop_timeout: 10s }\n"),
            Lines{"t.yaml:1:8: drain.delay 5s + drain.timeout 20s + app.stop_timeout 10s = 35s does not fit in "
                  "drain.budget 30s, the platform's SIGKILL deadline: shorten them or raise the budget (ECS stopTimeout)"});
}

TEST(Schema, ReadsTheRetryKeys) {
  const Config c = load(std::string(kCluster) + "    retries: { attempts: 2, wait_while_refused: 1500ms }\n");
  EXPECT_EQ(c.clusters[0].retries.attempts, 2u);
  EXPECT_EQ(c.clusters[0].retries.wait_while_refused, Millis(1500));
  EXPECT_EQ(load(kCluster).clusters[0].retries.wait_while_refused, Millis(0));  // fail fast by default
}

TEST(Schema, DrainMustFitInItsBudget) {
  const Config c = load("drain: { delay: 5s, timeout: 20s, budget: 30s }\n");
  EXPECT_EQ(c.drain.delay, Millis(5000));
  EXPECT_EQ(c.drain.timeout, Millis(20000));
  EXPECT_EQ(c.drain.budget, Millis(30000));
  EXPECT_EQ(errors("drain: { delay: 10s, timeout: 25s }\n"),
            Lines{"t.yaml:1:8: drain.delay 10s + drain.timeout 25s = 35s does not fit in drain.budget 30s, the platform's "
                  "SIGKILL deadline: shorten them or raise the budget (ECS stopTimeout)"});
}

TEST(Schema, ReadsEveryBalancePolicyAndHashOn) {
  const Config c = load(R"(clusters:
  - { name: a, endpoints: [{ address: 127.0.0.1:8000 }], balance: least_request }
  - { name: b, endpoints: [{ address: 127.0.0.1:8000 }], balance: random }
  - { name: c, endpoints: [{ address: 127.0.0.1:8000 }], balance: hash, hash_on: "cookie:session" }
)");
  EXPECT_EQ(c.clusters[0].balance, BalancePolicy::LeastRequest);
  EXPECT_EQ(c.clusters[1].balance, BalancePolicy::Random);
  EXPECT_EQ(c.clusters[2].balance, BalancePolicy::Hash);
  EXPECT_EQ(c.clusters[2].hash_on, "cookie:session");
}

TEST(Schema, HashNeedsAKnownKeySource) {
  EXPECT_EQ(errors("clusters:\n  - name: a\n    endpoints: [{address: 127.0.0.1:8000}]\n    balance: hash\n"),
            Lines{"t.yaml:4:14: balance: hash needs hash_on: client_ip, header:NAME or cookie:NAME"});
  EXPECT_EQ(errors("clusters:\n  - name: a\n    endpoints: [{address: 127.0.0.1:8000}]\n    balance: hash\n"
                   "    hash_on: body\n"),
            Lines{"t.yaml:5:14: hash_on 'body' is not client_ip, header:NAME or cookie:NAME"});
  EXPECT_EQ(errors("clusters:\n  - name: a\n    endpoints: [{address: 127.0.0.1:8000}]\n    hash_on: client_ip\n"),
            Lines{"t.yaml:4:14: hash_on is for balance: hash"});
}

// --- listeners and routes -----------------------------------------------------------------------

TEST(Schema, ReadsListenersAndRoutes) {
  const Config c = load(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { path_prefix: /api/ }
        cluster: api
      - cluster: web
  - name: v6
    address: "[::]:8443"
clusters:
  - { name: api, endpoints: [{ address: 127.0.0.1:8000 }] }
  - { name: web, endpoints: [{ address: 127.0.0.1:3000 }] }
)");
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].name, "public");
  EXPECT_EQ(c.listeners[0].address.host, "0.0.0.0");
  EXPECT_EQ(c.listeners[0].address.port, 8080);
  ASSERT_EQ(c.listeners[0].routes.size(), 2u);
  EXPECT_EQ(c.listeners[0].routes[0].match.path_prefix, "/api/");
  EXPECT_EQ(c.listeners[0].routes[0].cluster, "api");
  EXPECT_EQ(c.listeners[0].routes[1].match.path_prefix, "");
  EXPECT_EQ(c.listeners[0].routes[1].cluster, "web");
  EXPECT_EQ(c.listeners[1].address.host, "::");
  EXPECT_EQ(c.listeners[1].address.port, 8443);
  EXPECT_TRUE(c.listeners[1].routes.empty());
}

TEST(Schema, ListenerPortZeroMeansAnyFreePort) {
  EXPECT_EQ(load("listeners: [{name: t, address: 127.0.0.1:0}]\n").listeners[0].address.port, 0);
}

TEST(Schema, ListenerNeedsNameAndAddress) {
  EXPECT_EQ(errors("listeners:\n  - name: a\n  - address: 0.0.0.0:9000\n"),
            (Lines{"t.yaml:2:5: listener needs 'address'", "t.yaml:3:5: listener needs 'name'"}));
  EXPECT_EQ(errors("listeners:\n  - {}\n"),
            (Lines{"t.yaml:2:5: listener needs 'name'", "t.yaml:2:5: listener needs 'address'"}));
}

TEST(Schema, ListenerAddressMustBeAnIpLiteralWithAPort) {
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: localhost:8080\n"),
            Lines{"t.yaml:3:14: listener address 'localhost' must be an IP address (0.0.0.0 or [::] for every interface)"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0\n"),
            Lines{"t.yaml:3:14: missing port in '0.0.0.0' (expected host:port)"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:80800\n"),
            Lines{"t.yaml:3:14: bad port '80800' in '0.0.0.0:80800' (expected 0-65535)"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: ::1:8080\n"),
            Lines{"t.yaml:3:14: IPv6 addresses need brackets: '[::1]:8080'"});
}

TEST(Schema, DuplicateListenersAreReportedAtTheSecond) {
  EXPECT_EQ(errors(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
  - name: public
    address: 0.0.0.0:8081
  - name: other
    address: 0.0.0.0:8080
)"),
            (Lines{"t.yaml:4:11: duplicate listener name 'public' (first at line 2)",
                   "t.yaml:7:14: another listener already uses 0.0.0.0:8080 (first at line 3)"}));
}

TEST(Schema, RoutesMustNameAKnownCluster) {
  EXPECT_EQ(errors(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { path_prefix: /api/ }
        cluster: ap
      - cluster: nowhere
)"),
            (Lines{"t.yaml:6:18: unknown cluster 'ap' (did you mean 'app'?)", "t.yaml:7:18: unknown cluster 'nowhere'"}));
}

TEST(Schema, RouteNeedsOneAction) {
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n      - match: {path_prefix: /}\n"),
            Lines{"t.yaml:5:9: route needs an action: 'cluster: NAME', 'respond', 'redirect' or 'static'"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n      - cluster: \"\"\n"),
            Lines{"t.yaml:5:18: 'cluster' must name a cluster"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n"
                   "      - cluster: app\n        redirect: {to: /x}\n"),
            Lines{"t.yaml:6:19: a route has one action: cluster, respond, redirect or static"});
}

TEST(Schema, RoutePathsStartWithSlash) {
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n"
                   "      - match: {path_prefix: api}\n        cluster: app\n"),
            Lines{"t.yaml:5:30: path_prefix 'api' must start with '/'"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n"
                   "      - match:\n          path: api\n        cluster: app\n"),
            Lines{"t.yaml:6:17: path 'api' must start with '/'"});
  EXPECT_EQ(errors("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n"
                   "      - match: {paht: /x}\n        cluster: app\n"),
            Lines{"t.yaml:5:17: unknown key 'paht' in listeners[0].routes[0].match (did you mean 'path'?)"});
}

TEST(Schema, ReadsEveryMatchAndAction) {
  const Config c = load(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { host: "*.example.com", methods: [GET, HEAD], headers: { X-Canary: "1" } }
        cluster: app
      - match: { path_prefix: /api }
        cluster: app
        strip_prefix: true
      - match: { path: /down }
        respond: { status: 503, body: "maintenance\n", headers: { Retry-After: "120" } }
      - match: { host: old.example.com }
        redirect: { to: "https://new.example.com{path}{query}", status: 301 }
)");
  const auto& r = c.listeners[0].routes;
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].match.host, "*.example.com");
  EXPECT_EQ(r[0].match.methods, (std::vector<std::string>{"GET", "HEAD"}));
  ASSERT_EQ(r[0].match.headers.size(), 1u);
  EXPECT_EQ(r[0].match.headers[0].name, "X-Canary");
  EXPECT_EQ(r[0].match.headers[0].value, "1");
  EXPECT_EQ(r[1].action, RouteAction::Cluster);
  EXPECT_TRUE(r[1].strip_prefix);
  EXPECT_EQ(r[2].action, RouteAction::Respond);
  EXPECT_EQ(r[2].respond.status, 503);
  EXPECT_EQ(r[2].respond.body, "maintenance\n");
  ASSERT_EQ(r[2].respond.headers.size(), 1u);
  EXPECT_EQ(r[2].respond.headers[0].name, "Retry-After");
  EXPECT_EQ(r[3].action, RouteAction::Redirect);
  EXPECT_EQ(r[3].redirect.to, "https://new.example.com{path}{query}");
  EXPECT_EQ(r[3].redirect.status, 301);
}

TEST(Schema, RefusesBadHostsStatusesAndStripPrefixWithoutPrefix) {
  EXPECT_EQ(errors(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { host: "api.*.com" }
        cluster: app
      - match: { host: "*example.com" }
        cluster: app
      - redirect: { to: /x, status: 200 }
      - respond: { status: 99 }
      - cluster: app
        strip_prefix: true
      - respond: { status: 200, headers: { Content-Length: "5" } }
)"),
            (Lines{"t.yaml:5:24: bad host 'api.*.com' (write a name such as api.example.com, or *.example.com for "
                   "every name below example.com)",
                   "t.yaml:7:24: bad host '*example.com' (write a name such as api.example.com, or *.example.com for "
                   "every name below example.com)",
                   "t.yaml:9:37: redirect status must be 301, 302, 303, 307 or 308, not 200",
                   "t.yaml:10:28: respond status must be between 200 and 599, not 99",
                   "t.yaml:12:23: strip_prefix needs a match.path_prefix and a cluster to send the rest to",
                   "t.yaml:13:60: 'Content-Length' is set by fairlead from the body"}));
}

TEST(Schema, WarnsAboutAShadowedRouteWithBothLines) {
  std::vector<std::string> warnings;
  auto loaded = loadConfigText(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { path_prefix: / }
        cluster: app
      - match: { path_prefix: /api }
        cluster: app
      - match: { host: "*.example.com" }
        cluster: app
      - match: { host: "a.example.com", path: /x }
        cluster: app
      - match: { path_prefix: /api, methods: [GET] }
        cluster: app
clusters:
  - { name: app, endpoints: [{ address: 127.0.0.1:8000 }] }
)",
                               "t.yaml", fakeEnv({}), &warnings);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  EXPECT_EQ(warnings,
            (Lines{"t.yaml:7:9: warning: this route can never match: routes[0] before it takes every request it "
                   "would (see line 5)",
                   "t.yaml:9:9: warning: this route can never match: routes[0] before it takes every request it "
                   "would (see line 5)",
                   "t.yaml:11:9: warning: this route can never match: routes[0] before it takes every request it "
                   "would (see line 5)",
                   "t.yaml:13:9: warning: this route can never match: routes[0] before it takes every request it "
                   "would (see line 5)"}));
}

// A root that cannot be opened would make every request of its route a 404 without a word.
TEST(Schema, WarnsAboutAStaticRootThatCannotBeOpened) {
  std::vector<std::string> warnings;
  auto loaded = loadConfigText(R"(listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - match: { path_prefix: /docs/ }
        static: { root: /nonexistent/fairlead-docs }
      - static: { root: )" FAIRLEAD_SOURCE_DIR R"( }
)",
                               "t.yaml", fakeEnv({}), &warnings);
  ASSERT_TRUE(loaded) << loaded.error().detail;
  EXPECT_EQ(warnings, (Lines{"t.yaml:6:25: warning: static root '/nonexistent/fairlead-docs' cannot be opened (No such "
                             "file or directory): every request of this route is answered 404 until it can"}));
  EXPECT_TRUE(validateConfig(*loaded)) << "a warning, not an error";
}

// --- clusters -----------------------------------------------------------------------------------

TEST(Schema, ReadsClusters) {
  const Config c = load(R"(clusters:
  - name: app
    endpoints:
      - { address: 127.0.0.1:8000, weight: 3 }
      - { address: "[::1]:8001" }
      - { address: app.internal:8002, weight: 1 }
    balance: round_robin
    connect_timeout: 250ms
    response_timeout: 2m
    idle_timeout: 4s
    max_idle_per_endpoint: 0
    retries: { attempts: 0 }
)");
  ASSERT_EQ(c.clusters.size(), 1u);
  const ClusterConfig& app = c.clusters[0];
  EXPECT_EQ(app.name, "app");
  ASSERT_EQ(app.endpoints.size(), 3u);
  EXPECT_EQ(app.endpoints[0].address.toString(), "127.0.0.1:8000");
  EXPECT_EQ(app.endpoints[0].weight, 3u);
  EXPECT_EQ(app.endpoints[1].address.host, "::1");
  EXPECT_EQ(app.endpoints[1].weight, 1u);
  EXPECT_EQ(app.endpoints[2].address.host, "app.internal");
  EXPECT_EQ(app.balance, BalancePolicy::RoundRobin);
  EXPECT_EQ(app.connect_timeout, Millis(250));
  EXPECT_EQ(app.response_timeout, Millis(120000));
  EXPECT_EQ(app.idle_timeout, Millis(4000));
  EXPECT_EQ(app.max_idle_per_endpoint, 0u);
  EXPECT_EQ(app.retries.attempts, 0u);
  // The default listener is kept when only clusters are written.
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].address.port, 8080);
}

TEST(Schema, ClusterDefaultsForOmittedKeys) {
  const Config c = load("clusters:\n  - name: app\n    endpoints: [{address: 10.0.0.1:80}]\n");
  const ClusterConfig& app = c.clusters[0];
  EXPECT_EQ(app.connect_timeout, Millis(2000));
  EXPECT_EQ(app.response_timeout, Millis(60000));
  EXPECT_EQ(app.idle_timeout, Millis(4000));
  EXPECT_EQ(app.max_idle_per_endpoint, 64u);
  EXPECT_EQ(app.retries.attempts, 1u);
}

TEST(Schema, ClusterNeedsNameAndEndpoints) {
  EXPECT_EQ(errors("clusters:\n  - name: app\n"), Lines{"t.yaml:2:5: cluster needs 'endpoints'"});
  EXPECT_EQ(errors("clusters:\n  - endpoints: [{address: 10.0.0.1:80}]\n"), Lines{"t.yaml:2:5: cluster needs 'name'"});
  EXPECT_EQ(errors("clusters:\n  - name: app\n    endpoints: []\n"), Lines{"t.yaml:3:16: cluster 'app' has no endpoints"});
}

TEST(Schema, NoClustersWhileListenersExist) {
  EXPECT_EQ(errors("clusters: []\n"),
            Lines{"t.yaml:1:11: no clusters: the listeners need at least one to send requests to"});
  const Config none = load("listeners: []\nclusters: []\n");
  EXPECT_TRUE(none.listeners.empty());
  EXPECT_TRUE(none.clusters.empty());
}

TEST(Schema, DuplicateClusterNames) {
  EXPECT_EQ(errors(R"(clusters:
  - name: app
    endpoints: [{address: 10.0.0.1:80}]
  - name: app
    endpoints: [{address: 10.0.0.2:80}]
)"),
            Lines{"t.yaml:4:11: duplicate cluster name 'app' (first at line 2)"});
}

TEST(Schema, EndpointChecks) {
  auto endpoint = [](const std::string& flow) {
    return errors("clusters:\n  - name: app\n    endpoints:\n      - " + flow + "\n");
  };
  EXPECT_EQ(endpoint("{address: 127.0.0.1:0}"), Lines{"t.yaml:4:19: endpoint 127.0.0.1:0 needs a port other than 0"});
  EXPECT_EQ(endpoint("{address: 127.0.0.1:8000, weight: 0}"), Lines{"t.yaml:4:43: weight must be between 1 and 65535"});
  EXPECT_EQ(endpoint("{address: 127.0.0.1:8000, weight: 65536}"),
            Lines{"t.yaml:4:43: weight must be between 1 and 65535"});
  EXPECT_EQ(endpoint("{address: 127.0.0.1:8000, weight: 5000000000}"),
            Lines{"t.yaml:4:43: 'weight' is too large: 5000000000 (at most 4294967295)"});
  EXPECT_EQ(endpoint("{address: 127.0.0.1:8000, weight: heavy}"),
            Lines{"t.yaml:4:43: 'weight' must be a whole number, not 'heavy'"});
  EXPECT_EQ(endpoint("{address: 127.0.0.1:8000, weight: -1}"),
            Lines{"t.yaml:4:43: 'weight' must be a whole number, not '-1'"});
  EXPECT_EQ(endpoint("{weight: 2}"), Lines{"t.yaml:4:9: endpoint needs 'address'"});
  EXPECT_EQ(endpoint("127.0.0.1:8000"),
            Lines{"t.yaml:4:9: 'endpoints[0]' must be a mapping (key: value), not a single value"});
}

TEST(Schema, BrokenEndpointIsReportedOnce) {
  // The broken address leaves an empty host behind; the validator must not report that as well.
  EXPECT_EQ(errors("clusters:\n  - name: app\n    endpoints: [{address: \"10.0.0.1:x\"}]\n"),
            Lines{"t.yaml:3:27: bad port 'x' in '10.0.0.1:x' (expected 0-65535)"});
}

TEST(Schema, UnknownBalanceSuggests) {
  EXPECT_EQ(errors(std::string(kCluster) + "    balance: round_robbin\n"),
            Lines{"t.yaml:4:14: unknown balance 'round_robbin' (expected round_robin, least_request, random or hash; "
                  "did you mean 'round_robin'?)"});
}

TEST(Schema, ClusterTimeoutsMustBePositive) {
  EXPECT_EQ(errors(std::string(kCluster) + "    connect_timeout: 0s\n    response_timeout: 0\n    idle_timeout: 0ms\n"),
            (Lines{"t.yaml:4:22: connect_timeout must be greater than 0",
                   "t.yaml:5:23: response_timeout must be greater than 0", "t.yaml:6:19: idle_timeout must be greater than 0"}));
}

TEST(Schema, RetryAttemptsAreBounded) {
  EXPECT_EQ(load(std::string(kCluster) + "    retries: {attempts: 10}\n").clusters[0].retries.attempts, 10u);
  EXPECT_EQ(errors(std::string(kCluster) + "    retries: {attempts: 11}\n"),
            Lines{"t.yaml:4:25: retries.attempts must be at most 10"});
  EXPECT_EQ(errors(std::string(kCluster) + "    retries: 2\n"),
            Lines{"t.yaml:4:14: 'retries' must be a mapping (key: value), not a single value"});
}

// --- durations and sizes ------------------------------------------------------------------------

TEST(Schema, Durations) {
  const Config c = load("timeouts:\n  request_header: 250ms\n  keepalive_idle: 2m\n  request_body_idle: 1h\n");
  EXPECT_EQ(c.timeouts.request_header, Millis(250));
  EXPECT_EQ(c.timeouts.keepalive_idle, Millis(120000));
  EXPECT_EQ(c.timeouts.request_body_idle, Millis(3600000));
  EXPECT_EQ(load("timeouts: {keepalive_idle: 75s}\n").timeouts.keepalive_idle, Millis(75000));
}

TEST(Schema, BadDurations) {
  auto timeout = [](const std::string& value) { return errors("timeouts:\n  request_header: " + value + "\n"); };
  EXPECT_EQ(timeout("10"), Lines{"t.yaml:2:19: bad duration '10' for 'request_header' (write e.g. 250ms, 5s, 2m or "
                                 "1h; a number needs a unit)"});
  EXPECT_EQ(timeout("5x"), Lines{"t.yaml:2:19: bad duration '5x' for 'request_header' (write e.g. 250ms, 5s, 2m or 1h)"});
  EXPECT_EQ(timeout("1.5s"),
            Lines{"t.yaml:2:19: bad duration '1.5s' for 'request_header' (write e.g. 250ms, 5s, 2m or 1h)"});
  EXPECT_EQ(timeout("-1s"), Lines{"t.yaml:2:19: bad duration '-1s' for 'request_header' (write e.g. 250ms, 5s, 2m or 1h)"});
  EXPECT_EQ(timeout("\"5 s\""),
            Lines{"t.yaml:2:19: bad duration '5 s' for 'request_header' (write e.g. 250ms, 5s, 2m or 1h)"});
  EXPECT_EQ(timeout("0"), Lines{"t.yaml:2:19: request_header must be greater than 0"});
  EXPECT_EQ(timeout("0s"), Lines{"t.yaml:2:19: request_header must be greater than 0"});
  EXPECT_EQ(errors("timeouts:\n  keepalive_idle: 0s\n  request_body_idle: 0s\n"),
            (Lines{"t.yaml:2:19: keepalive_idle must be greater than 0",
                   "t.yaml:3:22: request_body_idle must be greater than 0"}));
}

TEST(Schema, Sizes) {
  const Config c = load("limits:\n  max_request_header_bytes: 16KiB\n  max_request_body_bytes: 100MiB\n"
                        "  max_connections: 512\n");
  EXPECT_EQ(c.limits.max_request_header_bytes, 16u * 1024);
  EXPECT_EQ(c.limits.max_request_body_bytes, 100u * 1024 * 1024);
  EXPECT_EQ(c.limits.max_connections, 512u);
  EXPECT_EQ(load("limits: {max_request_header_bytes: 1024}\n").limits.max_request_header_bytes, 1024u);
  EXPECT_EQ(load("limits: {max_request_body_bytes: 1GiB}\n").limits.max_request_body_bytes, 1ULL << 30);
  EXPECT_EQ(load("limits: {max_request_body_bytes: 0}\n").limits.max_request_body_bytes, 0u);
}

TEST(Schema, BadSizes) {
  EXPECT_EQ(errors("limits:\n  max_request_header_bytes: 32KB\n"),
            Lines{"t.yaml:2:29: bad size '32KB' for 'max_request_header_bytes' (write e.g. 512, 16KiB, 100MiB or 1GiB)"});
  EXPECT_EQ(errors("limits:\n  max_request_header_bytes: 1023\n"),
            Lines{"t.yaml:2:29: max_request_header_bytes must be at least 1KiB"});
  EXPECT_EQ(errors("limits:\n  max_connections: 0\n"), Lines{"t.yaml:2:20: max_connections must be at least 1"});
  EXPECT_EQ(errors("limits:\n  max_connections: 10k\n"),
            Lines{"t.yaml:2:20: 'max_connections' must be a whole number, not '10k'"});
}

// --- forwarding and log -------------------------------------------------------------------------

TEST(Schema, TrustedProxiesIpv4AndIpv6) {
  const Config c = load("forwarding:\n  trusted_proxies: [10.0.0.0/8, 192.168.1.7, \"fd00::/8\", \"::1\"]\n"
                        "  request_id_header: X-Trace-Id\n");
  const auto& t = c.forwarding.trusted_proxies;
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(toString(t[0]), "10.0.0.0/8");
  EXPECT_EQ(toString(t[1]), "192.168.1.7/32");
  EXPECT_TRUE(t[2].v6);
  EXPECT_EQ(toString(t[2]), "fd00::/8");
  EXPECT_EQ(t[3].prefix, 128);
  EXPECT_EQ(c.forwarding.request_id_header, "X-Trace-Id");
}

TEST(Schema, BadTrustedProxies) {
  EXPECT_EQ(errors("forwarding:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - 10.1.0.0/8\n    - 10.0.0.0/40\n    - office\n"),
            (Lines{"t.yaml:4:7: '10.1.0.0/8' has host bits set; did you mean '10.0.0.0/8'?",
                   "t.yaml:5:7: bad prefix length in '10.0.0.0/40' (expected 0-32)",
                   "t.yaml:6:7: bad network 'office' (expected e.g. 10.0.0.0/8, fd00::/8 or an address)"}));
  EXPECT_EQ(errors("forwarding:\n  trusted_proxies: 10.0.0.0/8\n"),
            Lines{"t.yaml:2:20: 'trusted_proxies' must be a list, not a single value"});
}

TEST(Schema, RequestIdHeaderMustBeAToken) {
  EXPECT_EQ(errors("forwarding:\n  request_id_header: \"X Request Id\"\n"),
            Lines{"t.yaml:2:22: request_id_header 'X Request Id' is not a valid header name"});
  EXPECT_EQ(errors("forwarding:\n  request_id_header: \"\"\n"),
            Lines{"t.yaml:2:22: request_id_header '' is not a valid header name"});
}

TEST(Schema, LogLevelAndAccess) {
  EXPECT_EQ(load("log: {level: debug, access: text}\n").log.level, "debug");
  EXPECT_EQ(load("log: {level: debug, access: text}\n").log.access, AccessLogFormat::Text);
  EXPECT_EQ(load("log: {access: off}\n").log.access, AccessLogFormat::Off);  // not YAML 1.1's false
  EXPECT_EQ(load("log: {level: off}\n").log.level, "off");
  for (const char* level : {"trace", "debug", "info", "warn", "error", "critical"}) {
    EXPECT_EQ(load(std::string("log: {level: ") + level + "}\n").log.level, level);
  }
}

TEST(Schema, BadLogValues) {
  EXPECT_EQ(errors("log:\n  level: verbose\n"),
            Lines{"t.yaml:2:10: unknown log level 'verbose' (expected trace, debug, info, warn, error, critical or off)"});
  EXPECT_EQ(errors("log:\n  level: wran\n"),
            Lines{"t.yaml:2:10: unknown log level 'wran' (expected trace, debug, info, warn, error, critical or off; "
                  "did you mean 'warn'?)"});
  EXPECT_EQ(errors("log:\n  access: jsn\n"),
            Lines{"t.yaml:2:11: unknown access 'jsn' (expected json, text or off; did you mean 'json'?)"});
}

// --- ${VAR} -------------------------------------------------------------------------------------

TEST(Schema, SubstitutesEnvironmentInScalars) {
  const Config c = load(R"(workers: ${WORKERS:-auto}
listeners:
  - name: public
    address: 0.0.0.0:${PORT}
    routes:
      - match: { path_prefix: "/$$money" }
        cluster: app
clusters:
  - name: app
    endpoints:
      - address: ${APP_HOST:-127.0.0.1}:${APP_PORT:-8000}
    connect_timeout: ${CONNECT_TIMEOUT}
forwarding:
  request_id_header: "${ID_HEADER}"
)",
                        {{"PORT", "9090"}, {"APP_HOST", "app.internal"}, {"CONNECT_TIMEOUT", "750ms"},
                         {"ID_HEADER", "X-Amzn-Trace-Id"}});
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.listeners[0].address.port, 9090);
  EXPECT_EQ(c.listeners[0].routes[0].match.path_prefix, "/$money");
  EXPECT_EQ(c.clusters[0].endpoints[0].address.toString(), "app.internal:8000");
  EXPECT_EQ(c.clusters[0].connect_timeout, Millis(750));
  EXPECT_EQ(c.forwarding.request_id_header, "X-Amzn-Trace-Id");
}

TEST(Schema, SubstitutedValuesAreCheckedLikeWrittenOnes) {
  EXPECT_EQ(errors("workers: ${WORKERS}\n", {{"WORKERS", "0"}}),
            Lines{"t.yaml:1:10: workers must be auto or between 1 and 1024"});
  EXPECT_EQ(errors("timeouts:\n  request_header: ${T:-10}\n"),
            Lines{"t.yaml:2:19: bad duration '10' for 'request_header' (write e.g. 250ms, 5s, 2m or 1h; a number "
                  "needs a unit)"});
}

TEST(Schema, SubstitutedTextIsNeverYaml) {
  const Config c = load("listeners:\n  - name: a\n    address: 0.0.0.0:1\n    routes:\n"
                        "      - match: {path_prefix: \"${P}\"}\n        cluster: app\n",
                        {{"P", "/x: y\nworkers: 3 # }"}});
  EXPECT_EQ(c.listeners[0].routes[0].match.path_prefix, "/x: y\nworkers: 3 # }");
  EXPECT_EQ(c.workers, 0u);
}

TEST(Schema, UnsetVariableIsAnErrorAtItsScalar) {
  EXPECT_EQ(errors("workers: 2\nlisteners:\n  - name: public\n    address: \"0.0.0.0:${PORT}\"\n"),
            Lines{"t.yaml:4:14: environment variable 'PORT' is not set (write ${PORT:-default} to give it a default)"});
  EXPECT_EQ(errors("log:\n  level: ${LEVEL\n"),
            Lines{"t.yaml:2:10: unterminated '${' in '${LEVEL' (write $$ for a literal '$')"});
}

TEST(Schema, KeysAreNotSubstituted) {
  EXPECT_EQ(errors("${KEY}: 1\n", {{"KEY", "workers"}}), Lines{"t.yaml:1:1: unknown key '${KEY}' in the config"});
}

// --- errors come together, in file order, without cascades ---------------------------------------

TEST(Schema, AllErrorsInFileOrder) {
  // The unknown cluster (line 6) is found by the validator after everything else was read, yet is
  // printed between the errors of lines 1 and 9.
  EXPECT_EQ(errors(R"(workers: 0
listeners:
  - name: public
    address: 0.0.0.0:8080
    routes:
      - cluster: missing
clusters:
  - name: app
    endpoints: [{ address: "127.0.0.1:8000", weight: 0 }]
log: { level: loud }
)"),
            (Lines{"t.yaml:1:10: workers must be auto or between 1 and 1024", "t.yaml:6:18: unknown cluster 'missing'",
                   "t.yaml:9:54: weight must be between 1 and 65535",
                   "t.yaml:10:15: unknown log level 'loud' (expected trace, debug, info, warn, error, critical or off)"}));
}

}  // namespace
}  // namespace fairlead::config

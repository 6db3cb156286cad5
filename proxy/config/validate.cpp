#include "config/validate.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "config/address.hpp"
#include "config/spelling.hpp"
#include "core/ascii.hpp"
#include "core/route_match.hpp"
#include "core/units.hpp"

namespace fairlead::config {
namespace {

// Keeps the sum of a cluster's weights far from 32-bit overflow in the balancers.
constexpr std::uint32_t kMaxWeight = 65535;
// Each retry adds load to an app that may be failing because it is overloaded.
constexpr std::uint32_t kMaxRetryAttempts = 10;
// Below 1 KiB even an ordinary browser request head (cookies, user agent) is refused.
constexpr std::uint64_t kMinRequestHeaderBytes = 1024;

constexpr std::array<std::string_view, 7> kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

// RFC 9110 §5.1: a field name is a token.
bool isHeaderName(std::string_view name) {
  constexpr std::string_view kTokenPunct = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  for (const char c : name) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && kTokenPunct.find(c) == std::string_view::npos) return false;
  }
  return true;
}

class Checker {
 public:
  explicit Checker(const Config& config) : config_(config) {}

  std::vector<Issue> run() {
    if (config_.workers > kMaxWorkers) {
      add("workers", fmt::format("workers must be auto or between 1 and {}", kMaxWorkers));
    }
    checkListeners();
    checkClusters();
    checkClientSide();
    checkAdmin();
    checkApp();
    checkDrain();
    return std::move(issues_);
  }

 private:
  void add(std::string path, std::string message, std::string first_path = {}) {
    issues_.push_back(Issue{std::move(path), std::move(message), std::move(first_path)});
  }

  void positive(const std::string& path, std::string_view name, Millis value) {
    if (value.count() <= 0) add(path, fmt::format("{} must be greater than 0", name));
  }

  void checkListeners() {
    std::map<std::string, std::string> names;      // name -> path of its first use
    std::map<std::string, std::string> addresses;  // host:port -> path of its first use
    for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
      const ListenerConfig& l = config_.listeners[i];
      const std::string at = fmt::format("listeners[{}]", i);
      if (l.name.empty()) {
        add(at + ".name", "listener name must not be empty");
      } else if (auto [it, fresh] = names.emplace(l.name, at + ".name"); !fresh) {
        add(at + ".name", fmt::format("duplicate listener name '{}'", l.name), it->second);
      }
      // Listening sockets are bound to literals: resolving a name at bind time would make startup
      // depend on DNS and pick one address arbitrarily.
      if (!isIpAddress(l.address.host)) {
        add(at + ".address",
            fmt::format("listener address '{}' must be an IP address (0.0.0.0 or [::] for every interface)",
                        l.address.host));
      } else if (l.address.port != 0) {
        // SO_REUSEPORT would let both bind and the kernel would split connections between them.
        if (auto [it, fresh] = addresses.emplace(l.address.toString(), at + ".address"); !fresh) {
          add(at + ".address", fmt::format("another listener already uses {}", l.address.toString()), it->second);
        }
      }
      checkRoutes(l.routes, at);
      if (l.tls) checkListenerTls(*l.tls, at + ".tls");
      if (l.redirect_to_https != 0) {
        if (!l.routes.empty()) {
          add(at + ".routes", "a redirect_to_https listener answers every request with a redirect: it has no routes");
        }
        if (l.tls) add(at + ".tls", "a redirect_to_https listener is the plain HTTP one: move tls to the HTTPS listener");
      }
    }
  }

  void checkListenerTls(const ListenerTlsConfig& tls, const std::string& at) {
    if (tls.certificates.empty()) add(at + ".certificates", "tls needs at least one certificate (cert and key)");
    for (std::size_t i = 0; i < tls.certificates.size(); ++i) {
      const CertificateConfig& c = tls.certificates[i];
      if (c.cert.empty()) add(fmt::format("{}.certificates[{}].cert", at, i), "cert must name a PEM file");
      if (c.key.empty()) add(fmt::format("{}.certificates[{}].key", at, i), "key must name a PEM file");
    }
    for (std::size_t i = 0; i < tls.alpn.size(); ++i) {
      // An ALPN protocol id is 1 to 255 bytes on the wire.
      if (tls.alpn[i].empty() || tls.alpn[i].size() > 255) {
        add(fmt::format("{}.alpn[{}]", at, i), "an ALPN protocol name is 1 to 255 characters");
      } else if (tls.alpn[i] != "http/1.1" && tls.alpn[i] != "http/1.0") {
        add(fmt::format("{}.alpn[{}]", at, i),
            fmt::format("fairlead speaks http/1.1 and http/1.0, not '{}': a client that chose it would be answered "
                        "in HTTP/1.1",
                        tls.alpn[i]));
      }
    }
    if (tls.hsts.count() < 0) add(at + ".hsts", "hsts must be 0s (off) or a max-age");
  }

  void checkRoutes(const std::vector<Route>& routes, const std::string& listener_at) {
    for (std::size_t r = 0; r < routes.size(); ++r) {
      const std::string at = fmt::format("{}.routes[{}]", listener_at, r);
      checkRoute(routes[r], at);
      for (std::size_t earlier = 0; earlier < r; ++earlier) {
        if (!covers(routes[earlier].match, routes[r].match)) continue;
        issues_.push_back(Issue{at, fmt::format("this route can never match: routes[{}] before it takes every "
                                                "request it would",
                                                earlier),
                                fmt::format("{}.routes[{}]", listener_at, earlier), true});
        break;
      }
    }
  }

  void checkRoute(const Route& route, const std::string& at) {
    checkMatch(route.match, at + ".match");
    switch (route.action) {
      case RouteAction::Cluster: checkClusterName(route.cluster, at + ".cluster"); break;
      case RouteAction::Respond: checkRespond(route.respond, at + ".respond"); break;
      case RouteAction::Redirect: checkRedirect(route.redirect, at + ".redirect"); break;
      case RouteAction::Static: checkStatic(route.static_files, at + ".static"); break;
    }
    if (route.strip_prefix && (route.action != RouteAction::Cluster || route.match.path_prefix.empty())) {
      add(at + ".strip_prefix", "strip_prefix needs a match.path_prefix and a cluster to send the rest to");
    }
  }

  void checkMatch(const RouteMatch& m, const std::string& at) {
    if (!m.host.empty()) {
      const bool wildcard = m.host.starts_with("*.");
      const std::string_view name = wildcard ? std::string_view(m.host).substr(2) : std::string_view(m.host);
      if (name.find('*') != std::string_view::npos || !isValidHost(name) || name.find(':') != std::string_view::npos) {
        add(at + ".host", fmt::format("bad host '{}' (write a name such as api.example.com, or *.example.com for "
                                      "every name below example.com)",
                                      m.host));
      }
    }
    for (const auto& [key, value] : {std::pair{"path_prefix", &m.path_prefix}, std::pair{"path", &m.path}}) {
      if (!value->empty() && value->front() != '/') {
        add(fmt::format("{}.{}", at, key), fmt::format("{} '{}' must start with '/'", key, *value));
      }
    }
    if (!m.path.empty() && !m.path_prefix.empty()) {
      add(at + ".path", "match on path or on path_prefix, not both");
    }
    for (std::size_t i = 0; i < m.methods.size(); ++i) {
      if (!isHeaderName(m.methods[i])) {
        add(fmt::format("{}.methods[{}]", at, i), fmt::format("'{}' is not a method name", m.methods[i]));
      }
    }
    for (const HeaderField& h : m.headers) {
      if (!isHeaderName(h.name)) add(fmt::format("{}.headers.{}", at, h.name), fmt::format("'{}' is not a header name", h.name));
    }
  }

  void checkClusterName(const std::string& name, const std::string& at) {
    if (name.empty()) return;  // the first cluster
    std::vector<std::string_view> known;
    for (const ClusterConfig& c : config_.clusters) {
      if (c.name == name) return;
      known.push_back(c.name);
    }
    std::string message = fmt::format("unknown cluster '{}'", name);
    if (auto close = closestMatch(name, known)) message += fmt::format(" (did you mean '{}'?)", *close);
    add(at, std::move(message));
  }

  void checkRespond(const RespondAction& r, const std::string& at) {
    // 1xx are interim answers, never a whole response; 204 and 304 have no body by definition.
    if (r.status < 200 || r.status > 599) {
      add(at + ".status", fmt::format("respond status must be between 200 and 599, not {}", r.status));
    } else if ((r.status == 204 || r.status == 304) && !r.body.empty()) {
      add(at + ".body", fmt::format("a {} response has no body", r.status));
    }
    for (const HeaderField& h : r.headers) {
      const std::string path = fmt::format("{}.headers.{}", at, h.name);
      if (!isHeaderName(h.name)) {
        add(path, fmt::format("'{}' is not a header name", h.name));
      } else if (framingHeader(h.name)) {
        add(path, fmt::format("'{}' is set by fairlead from the body", h.name));
      }
    }
  }

  void checkRedirect(const RedirectAction& r, const std::string& at) {
    constexpr std::array<std::uint16_t, 5> kRedirects = {301, 302, 303, 307, 308};
    if (std::find(kRedirects.begin(), kRedirects.end(), r.status) == kRedirects.end()) {
      add(at + ".status", fmt::format("redirect status must be 301, 302, 303, 307 or 308, not {}", r.status));
    }
    if (r.to.empty()) add(at + ".to", "redirect needs a 'to' (the Location)");
  }

  void checkStatic(const StaticAction& s, const std::string& at) {
    if (s.root.empty()) add(at + ".root", "static needs a root directory");
    // Opened as the workers open it. A warning, not an error: a deploy may put the files there
    // after fairlead starts, and the workers open the root again every second.
    if (!s.root.empty()) {
      const int fd = ::open(s.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        ::close(fd);
      } else {
        issues_.push_back(Issue{at + ".root",
                                fmt::format("static root '{}' cannot be opened ({}): every request of this route is "
                                            "answered 404 until it can",
                                            s.root, std::strerror(errno)),
                                "", true});
      }
    }
    if (s.index.empty() || s.index.find('/') != std::string::npos || s.index.starts_with('.')) {
      add(at + ".index", fmt::format("index '{}' must be a file name in each directory (index.html)", s.index));
    }
  }

  static bool framingHeader(std::string_view name) {
    for (std::string_view f : {"content-length", "transfer-encoding", "connection"}) {
      if (core::iequals(name, f)) return true;
    }
    return false;
  }

  static bool hostCovers(std::string_view earlier, std::string_view later) {
    if (later.empty()) return false;
    if (core::iequals(later, earlier)) return true;
    // "*.example.com" covers "a.example.com" and "*.a.example.com" alike.
    const std::string_view name = later.starts_with("*.") ? later.substr(2) : later;
    return earlier.starts_with("*.") && core::hostMatches(earlier, name);
  }

  // True when every request `later` matches is matched by `earlier` already.
  static bool covers(const RouteMatch& earlier, const RouteMatch& later) {
    if (!earlier.host.empty() && !hostCovers(earlier.host, later.host)) return false;
    if (!earlier.path.empty() && later.path != earlier.path) return false;
    // A prefix of "/" takes every path (only "OPTIONS *" has none, too rare to keep a route for).
    if (!earlier.path_prefix.empty() && core::prefixStem(earlier.path_prefix) != "/") {
      const std::string& later_path = !later.path.empty() ? later.path : later.path_prefix;
      if (later_path.empty() || !core::pathHasPrefix(core::prefixStem(later_path), earlier.path_prefix)) return false;
    }
    if (!earlier.methods.empty()) {
      if (later.methods.empty()) return false;
      for (const std::string& m : later.methods) {
        if (std::find(earlier.methods.begin(), earlier.methods.end(), m) == earlier.methods.end()) return false;
      }
    }
    for (const HeaderField& h : earlier.headers) {
      const bool also = std::any_of(later.headers.begin(), later.headers.end(), [&](const HeaderField& l) {
        return l.value == h.value && core::iequals(l.name, h.name);
      });
      if (!also) return false;
    }
    return true;
  }

  void checkClusters() {
    if (config_.clusters.empty() && !config_.listeners.empty()) {
      add("clusters", "no clusters: the listeners need at least one to send requests to");
    }
    std::map<std::string, std::string> names;
    for (std::size_t i = 0; i < config_.clusters.size(); ++i) {
      const ClusterConfig& c = config_.clusters[i];
      const std::string at = fmt::format("clusters[{}]", i);
      if (c.name.empty()) {
        add(at + ".name", "cluster name must not be empty");
      } else if (auto [it, fresh] = names.emplace(c.name, at + ".name"); !fresh) {
        add(at + ".name", fmt::format("duplicate cluster name '{}'", c.name), it->second);
      }
      if (c.endpoints.empty()) {
        add(at + ".endpoints", c.name.empty() ? std::string("cluster has no endpoints")
                                              : fmt::format("cluster '{}' has no endpoints", c.name));
      }
      for (std::size_t e = 0; e < c.endpoints.size(); ++e) {
        checkEndpoint(c.endpoints[e], fmt::format("{}.endpoints[{}]", at, e));
      }
      checkHashOn(c, at);
      positive(at + ".connect_timeout", "connect_timeout", c.connect_timeout);
      positive(at + ".response_timeout", "response_timeout", c.response_timeout);
      positive(at + ".idle_timeout", "idle_timeout", c.idle_timeout);
      if (c.retries.attempts > kMaxRetryAttempts) {
        add(at + ".retries.attempts", fmt::format("retries.attempts must be at most {}", kMaxRetryAttempts));
      }
      checkCapacity(c, at);
      if (c.health_check) checkHealthCheck(*c.health_check, at + ".health_check");
      checkOutlier(c.outlier_detection, at + ".outlier_detection");
      percent(at + ".panic_threshold", "panic_threshold", c.panic_threshold_percent);
      positive(at + ".dns_refresh", "dns_refresh", c.dns_refresh);
      if (!c.tls.sni.empty() && (isIpAddress(c.tls.sni) || !isValidHost(c.tls.sni))) {
        add(at + ".tls.sni", fmt::format("sni '{}' must be a host name", c.tls.sni));
      }
    }
  }

  void percent(const std::string& path, std::string_view name, std::uint32_t value) {
    if (value > 100) add(path, fmt::format("{} must be between 0% and 100%", name));
  }

  void checkCapacity(const ClusterConfig& c, const std::string& at) {
    if (!c.queue) return;
    if (c.max_requests_per_endpoint == 0) {
      add(at + ".queue", "a queue needs max_requests_per_endpoint: requests only wait for a cap");
    }
    positive(at + ".queue.timeout", "queue.timeout", c.queue->timeout);
  }

  void checkHealthCheck(const HealthCheckConfig& h, const std::string& at) {
    if (!h.tcp && !h.path.starts_with('/')) {
      add(at + ".path", fmt::format("health check path '{}' must start with '/'", h.path));
    } else if (!h.tcp && h.path.find_first_of(" \t\r\n") != std::string::npos) {
      add(at + ".path", "health check path must not contain whitespace");
    }
    if (!h.host.empty() && !isValidHost(h.host)) add(at + ".host", fmt::format("bad health check host '{}'", h.host));
    positive(at + ".interval", "interval", h.interval);
    positive(at + ".timeout", "timeout", h.timeout);
    percent(at + ".jitter", "jitter", h.jitter_percent);
    if (h.healthy_threshold == 0) add(at + ".healthy_threshold", "healthy_threshold must be at least 1");
    if (h.unhealthy_threshold == 0) add(at + ".unhealthy_threshold", "unhealthy_threshold must be at least 1");
    if (h.expected_status_min < 100 || h.expected_status_max > 599 || h.expected_status_min > h.expected_status_max) {
      add(at + ".expected_status", "expected_status must be a range within 100-599");
    }
  }

  void checkOutlier(const OutlierConfig& o, const std::string& at) {
    percent(at + ".max_ejection_percent", "max_ejection_percent", o.max_ejection_percent);
    if (o.consecutive_failures != 0) positive(at + ".ejection_time", "ejection_time", o.ejection_time);
  }

  void checkHashOn(const ClusterConfig& c, const std::string& at) {
    const std::string_view on = c.hash_on;
    if (c.balance != BalancePolicy::Hash) {
      if (!on.empty()) add(at + ".hash_on", "hash_on is for balance: hash");
      return;
    }
    if (on.empty()) {
      add(at + ".balance", "balance: hash needs hash_on: client_ip, header:NAME or cookie:NAME");
      return;
    }
    const bool named = on.starts_with("header:") || on.starts_with("cookie:");
    if (on != "client_ip" && !(named && isHeaderName(on.substr(7)))) {
      add(at + ".hash_on",
          fmt::format("hash_on '{}' is not client_ip, header:NAME or cookie:NAME", on));
    }
  }

  void checkEndpoint(const EndpointConfig& e, const std::string& at) {
    if (e.address.host.empty()) {
      add(at + ".address", "endpoint address needs a host");
    } else if (!isValidHost(e.address.host)) {
      add(at + ".address", fmt::format("bad endpoint host '{}'", e.address.host));
    } else if (e.address.port == 0) {
      add(at + ".address", fmt::format("endpoint {} needs a port other than 0", e.address.toString()));
    }
    if (e.weight < 1 || e.weight > kMaxWeight) {
      add(at + ".weight", fmt::format("weight must be between 1 and {}", kMaxWeight));
    }
  }

  void checkDrain() {
    const DrainConfig& d = config_.drain;
    positive("drain.timeout", "drain.timeout", d.timeout);
    positive("drain.budget", "drain.budget", d.budget);
    if (d.delay.count() < 0 || d.timeout.count() <= 0 || d.budget.count() <= 0) return;
    // The app is stopped only after the clients are drained, so its stop_timeout comes last.
    const bool app_runs = config_.app && !config_.app->command.empty();
    const Millis app_stop = app_runs ? config_.app->stop_timeout : Millis{0};
    const Millis total = d.delay + d.timeout + app_stop;
    if (total <= d.budget) return;
    const std::string sum =
        app_runs ? fmt::format("drain.delay {} + drain.timeout {} + app.stop_timeout {}", core::formatDuration(d.delay),
                                  core::formatDuration(d.timeout), core::formatDuration(app_stop))
                    : fmt::format("drain.delay {} + drain.timeout {}", core::formatDuration(d.delay),
                                  core::formatDuration(d.timeout));
    add("drain.budget", fmt::format("{} = {} does not fit in drain.budget {}, the platform's SIGKILL deadline: "
                                    "shorten them or raise the budget (ECS stopTimeout)",
                                    sum, core::formatDuration(total), core::formatDuration(d.budget)));
  }

  void checkAdmin() {
    if (!config_.admin) return;
    const HostPort& a = config_.admin->address;
    if (!isIpAddress(a.host)) {
      add("admin.address", fmt::format("admin address '{}' must be an IP address (127.0.0.1 keeps it to this host)", a.host));
      return;
    }
    // 0.0.0.0:9901 takes 127.0.0.1:9901 too.
    const auto wildcard = [](std::string_view host) { return host == "0.0.0.0" || host == "::"; };
    for (std::size_t i = 0; i < config_.listeners.size(); ++i) {
      const HostPort& l = config_.listeners[i].address;
      if (a.port != 0 && l.port == a.port && (l.host == a.host || wildcard(l.host) || wildcard(a.host))) {
        add("admin.address", fmt::format("listener {} on {} takes the admin address {} (set admin.address to "
                                         "another port)", config_.listeners[i].name, l.toString(), a.toString()));
      }
    }
    // Anyone who reaches the admin port could drain the proxy or read its topology.
    if (!isLoopback(a.host) && config_.admin->token.empty()) {
      add("admin.address", fmt::format("the admin address {} is reachable from other hosts: set admin.token (a bearer "
                                       "token, e.g. token: ${{FAIRLEAD_ADMIN_TOKEN}}) or bind it to 127.0.0.1",
                                       a.toString()));
    }
  }

  void checkApp() {
    if (!config_.app) return;
    const AppConfig& app = *config_.app;
    for (std::size_t i = 0; i < app.command.size(); ++i) {
      if (app.command[i].empty()) add(fmt::format("app.command[{}]", i), "an empty argument in app.command");
    }
    positive("app.stop_timeout", "app.stop_timeout", app.stop_timeout);
    if (!app.ready_cluster.empty() &&
        std::none_of(config_.clusters.begin(), config_.clusters.end(),
                     [&](const ClusterConfig& c) { return c.name == app.ready_cluster; })) {
      add("app.ready_cluster", fmt::format("ready_cluster '{}' is not a cluster", app.ready_cluster));
    }
  }

  void checkClientSide() {
    positive("timeouts.request_header", "request_header", config_.timeouts.request_header);
    positive("timeouts.keepalive_idle", "keepalive_idle", config_.timeouts.keepalive_idle);
    positive("timeouts.request_body_idle", "request_body_idle", config_.timeouts.request_body_idle);
    positive("timeouts.response_send_idle", "response_send_idle", config_.timeouts.response_send_idle);

    if (config_.limits.max_request_header_bytes < kMinRequestHeaderBytes) {
      add("limits.max_request_header_bytes", "max_request_header_bytes must be at least 1KiB");
    }
    if (config_.limits.max_connections < 1) add("limits.max_connections", "max_connections must be at least 1");

    for (std::size_t i = 0; i < config_.forwarding.trusted_proxies.size(); ++i) {
      const Cidr& cidr = config_.forwarding.trusted_proxies[i];
      const unsigned max_prefix = cidr.v6 ? 128 : 32;
      if (cidr.prefix > max_prefix) {
        add(fmt::format("forwarding.trusted_proxies[{}]", i),
            fmt::format("prefix length {} is longer than {}", cidr.prefix, max_prefix));
      }
    }
    if (!isHeaderName(config_.forwarding.request_id_header)) {
      add("forwarding.request_id_header",
          fmt::format("request_id_header '{}' is not a valid header name", config_.forwarding.request_id_header));
    }

    const std::string& level = config_.log.level;
    if (std::find(kLogLevels.begin(), kLogLevels.end(), level) == kLogLevels.end()) {
      std::string suggestion;
      if (auto close = closestMatch(level, kLogLevels)) suggestion = fmt::format("; did you mean '{}'?", *close);
      add("log.level",
          fmt::format("unknown log level '{}' (expected trace, debug, info, warn, error, critical or off{})", level,
                      suggestion));
    }
  }

  const Config& config_;
  std::vector<Issue> issues_;
};

}  // namespace

std::vector<Issue> findIssues(const Config& config) { return Checker(config).run(); }

}  // namespace fairlead::config

namespace fairlead {

Result<> validateConfig(const Config& config) {
  std::string detail;
  for (const config::Issue& issue : config::findIssues(config)) {
    if (issue.warning) continue;
    if (!detail.empty()) detail += '\n';
    detail += fmt::format("{}: {}", issue.path, issue.message);
    if (!issue.first_path.empty()) detail += fmt::format(" (first at {})", issue.first_path);
  }
  if (!detail.empty()) return fail(Errc::ConfigInvalid, std::move(detail));
  return {};
}

}  // namespace fairlead

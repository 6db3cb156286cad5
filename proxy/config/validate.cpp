#include "config/validate.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <string_view>

#include <fmt/format.h>

#include "config/address.hpp"
#include "config/spelling.hpp"

namespace fairlead::config {
namespace {

// Keeps the sum of a cluster's weights far from 32-bit overflow in the balancers.
constexpr std::uint32_t kMaxWeight = 65535;
// Each retry adds load to an app that may be failing because it is overloaded.
constexpr std::uint32_t kMaxRetryAttempts = 10;
// Below 1 KiB even an ordinary browser request head (cookies, user agent) is refused.
constexpr std::uint64_t kMinRequestHeaderBytes = 1024;

constexpr std::array<std::string_view, 7> kLogLevels = {"trace", "debug", "info", "warn", "error", "critical", "off"};

const char* toString(BalancePolicy policy) {
  switch (policy) {
    case BalancePolicy::RoundRobin: return "round_robin";
    case BalancePolicy::LeastRequest: return "least_request";
    case BalancePolicy::Random: return "random";
    case BalancePolicy::Hash: return "hash";
  }
  return "unknown";
}

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
      for (std::size_t r = 0; r < l.routes.size(); ++r) checkRoute(l.routes[r], fmt::format("{}.routes[{}]", at, r));
    }
  }

  void checkRoute(const Route& route, const std::string& at) {
    if (route.path_prefix.empty() || route.path_prefix.front() != '/') {
      add(at + ".match.path_prefix", fmt::format("path_prefix '{}' must start with '/'", route.path_prefix));
    }
    if (route.cluster.empty()) return;  // the first cluster
    std::vector<std::string_view> known;
    for (const ClusterConfig& c : config_.clusters) {
      if (c.name == route.cluster) return;
      known.push_back(c.name);
    }
    std::string message = fmt::format("unknown cluster '{}'", route.cluster);
    if (auto close = closestMatch(route.cluster, known)) message += fmt::format(" (did you mean '{}'?)", *close);
    add(at + ".cluster", std::move(message));
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
      if (c.balance != BalancePolicy::RoundRobin) {
        add(at + ".balance",
            fmt::format("balance '{}' is not supported yet (only round_robin)", toString(c.balance)));
      }
      positive(at + ".connect_timeout", "connect_timeout", c.connect_timeout);
      positive(at + ".response_timeout", "response_timeout", c.response_timeout);
      positive(at + ".idle_timeout", "idle_timeout", c.idle_timeout);
      if (c.retries.attempts > kMaxRetryAttempts) {
        add(at + ".retries.attempts", fmt::format("retries.attempts must be at most {}", kMaxRetryAttempts));
      }
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

  void checkClientSide() {
    positive("timeouts.request_header", "request_header", config_.timeouts.request_header);
    positive("timeouts.keepalive_idle", "keepalive_idle", config_.timeouts.keepalive_idle);
    positive("timeouts.request_body_idle", "request_body_idle", config_.timeouts.request_body_idle);

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
    if (!detail.empty()) detail += '\n';
    detail += fmt::format("{}: {}", issue.path, issue.message);
    if (!issue.first_path.empty()) detail += fmt::format(" (first at {})", issue.first_path);
  }
  if (!detail.empty()) return fail(Errc::ConfigInvalid, std::move(detail));
  return {};
}

}  // namespace fairlead

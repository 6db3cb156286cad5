#include "config/schema.hpp"

#include <array>
#include <charconv>
#include <csignal>

#include <fmt/format.h>

#include "config/validate.hpp"

namespace fairlead::config {
namespace {

constexpr std::array<std::string_view, 4> kBalanceNames = {"round_robin", "least_request", "random", "hash"};
constexpr std::array<std::string_view, 3> kAccessNames = {"json", "text", "off"};
constexpr std::array<AccessLogFormat, 3> kAccessFormats = {AccessLogFormat::Json, AccessLogFormat::Text,
                                                           AccessLogFormat::Off};

constexpr std::array<std::string_view, 6> kStopSignalNames = {"SIGTERM", "SIGINT", "SIGQUIT", "SIGHUP", "SIGUSR1", "SIGUSR2"};
constexpr std::array<int, 6> kStopSignals = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};

class SchemaReader {
 public:
  explicit SchemaReader(YamlReader& r) : r_(r) {}

  Config read(const YAML::Node& root) {
    Config config = Config::defaults();
    r_.readMap(r_.document(root),
               {"the config",
                {
                    {"workers", [&](const Value& v) { readWorkers(v, config.workers); }},
                    {"listeners",
                     [&](const Value& v) {
                       config.listeners.clear();
                       r_.readList(v, [&](const Value& item) { config.listeners.push_back(readListener(item)); });
                     }},
                    {"clusters",
                     [&](const Value& v) {
                       config.clusters.clear();
                       r_.readList(v, [&](const Value& item) { config.clusters.push_back(readCluster(item)); });
                     }},
                    {"timeouts", [&](const Value& v) { readTimeouts(v, config.timeouts); }},
                    {"limits", [&](const Value& v) { readLimits(v, config.limits); }},
                    {"forwarding", [&](const Value& v) { readForwarding(v, config.forwarding); }},
                    {"log", [&](const Value& v) { readLog(v, config.log); }},
                    {"drain", [&](const Value& v) { readDrain(v, config.drain); }},
                    {"admin", [&](const Value& v) { readAdmin(v, config.admin.emplace()); }},
                    {"app", [&](const Value& v) { readApp(v, config.app.emplace()); }},
                }});
    return config;
  }

 private:
  void readWorkers(const Value& v, std::uint32_t& out) {
    auto t = r_.text(v);
    if (!t) return;
    if (*t == "auto") {
      out = 0;
      return;
    }
    std::uint64_t n = 0;
    const char* end = t->data() + t->size();
    auto [ptr, ec] = std::from_chars(t->data(), end, n);
    if (ptr != end || t->empty() || (*t)[0] == '-' || (*t)[0] == '+') {
      r_.error(v, fmt::format("workers must be auto or a number, not '{}'", *t));
    } else if (ec != std::errc{} || n == 0 || n > std::numeric_limits<std::uint32_t>::max()) {
      // 0 would silently mean auto; the range itself is the validator's (it says the same thing).
      r_.error(v, fmt::format("workers must be auto or between 1 and {}", kMaxWorkers));
    } else {
      out = static_cast<std::uint32_t>(n);
    }
  }

  ListenerConfig readListener(const Value& v) {
    // Start empty rather than from the "public" 0.0.0.0:8080 defaults: a listener whose name or
    // address is missing or broken must not look like a duplicate of a correct one.
    ListenerConfig l;
    l.name.clear();
    l.address = HostPort{};
    r_.readMap(v, {"listener",
                   {
                       {"name", [&](const Value& f) { r_.readString(f, l.name); }, true},
                       {"address", [&](const Value& f) { r_.readHostPort(f, l.address); }, true},
                       {"routes",
                        [&](const Value& f) {
                          r_.readList(f, [&](const Value& item) { l.routes.push_back(readRoute(item)); });
                        }},
                       {"tls", [&](const Value& f) { readListenerTls(f, l.tls.emplace()); }},
                       {"redirect_to_https",
                        [&](const Value& f) {
                          r_.readInteger(f, l.redirect_to_https);
                          if (l.redirect_to_https == 0 && f.node.IsScalar()) {
                            r_.error(f, "redirect_to_https is the HTTPS port to redirect to (443, 8443)");
                          }
                        }},
                   }});
    return l;
  }

  void readListenerTls(const Value& v, ListenerTlsConfig& out) {
    static constexpr std::array<std::string_view, 2> kVersionNames = {"TLSv1.2", "TLSv1.3"};
    static constexpr std::array<TlsVersion, 2> kVersions = {TlsVersion::Tls12, TlsVersion::Tls13};
    r_.readMap(v, {"tls",
                   {
                       {"certificates",
                        [&](const Value& f) {
                          r_.readList(f, [&](const Value& item) {
                            CertificateConfig& c = out.certificates.emplace_back();
                            r_.readMap(item, {"certificate",
                                              {
                                                  {"cert", [&](const Value& p) { r_.readString(p, c.cert); }, true},
                                                  {"key", [&](const Value& p) { r_.readString(p, c.key); }, true},
                                              }});
                          });
                        },
                        true},
                       {"min_version",
                        [&](const Value& f) {
                          if (auto index = r_.readChoice(f, kVersionNames)) out.min_version = kVersions[*index];
                        }},
                       {"alpn",
                        [&](const Value& f) {
                          out.alpn.clear();
                          r_.readList(f, [&](const Value& item) { r_.readString(item, out.alpn.emplace_back()); });
                        }},
                       {"hsts", [&](const Value& f) { r_.readDuration(f, out.hsts); }},
                   }});
  }

  Route readRoute(const Value& v) {
    Route route;
    int actions = 0;
    auto action = [&](RouteAction kind, const Value& f) {
      if (++actions > 1) {
        r_.error(f, "a route has one action: cluster, respond, redirect or static");
        return false;
      }
      route.action = kind;
      return true;
    };
    const MapSummary summary =
        r_.readMap(v, {"route",
                       {
                           {"match", [&](const Value& f) { readMatch(f, route.match); }},
                           {"cluster",
                            [&](const Value& f) {
                              if (!action(RouteAction::Cluster, f)) return;
                              r_.readString(f, route.cluster);
                              // Empty means "the first cluster" in code; in a file it is a slip.
                              if (route.cluster.empty() && f.node.IsScalar()) {
                                r_.error(f, "'cluster' must name a cluster");
                              }
                            }},
                           {"strip_prefix", [&](const Value& f) { r_.readBool(f, route.strip_prefix); }},
                           {"respond",
                            [&](const Value& f) {
                              if (action(RouteAction::Respond, f)) readRespond(f, route.respond);
                            }},
                           {"redirect",
                            [&](const Value& f) {
                              if (action(RouteAction::Redirect, f)) readRedirect(f, route.redirect);
                            }},
                           {"static",
                            [&](const Value& f) {
                              if (action(RouteAction::Static, f)) readStatic(f, route.static_files);
                            }},
                       }});
    if (summary.is_map && actions == 0) {
      r_.error(r_.where(v), childPath(v.path, "cluster"),
               "route needs an action: 'cluster: NAME', 'respond', 'redirect' or 'static'");
    }
    return route;
  }

  void readMatch(const Value& v, RouteMatch& match) {
    r_.readMap(v, {"match",
                   {
                       {"host", [&](const Value& f) { r_.readString(f, match.host); }},
                       {"path_prefix", [&](const Value& f) { r_.readString(f, match.path_prefix); }},
                       {"path", [&](const Value& f) { r_.readString(f, match.path); }},
                       {"methods",
                        [&](const Value& f) {
                          r_.readList(f, [&](const Value& item) {
                            r_.readString(item, match.methods.emplace_back());
                          });
                        }},
                       {"headers", [&](const Value& f) { r_.readStringMap(f, match.headers); }},
                   }});
  }

  void readRespond(const Value& v, RespondAction& out) {
    r_.readMap(v, {"respond",
                   {
                       {"status", [&](const Value& f) { r_.readInteger(f, out.status); }},
                       {"body", [&](const Value& f) { r_.readString(f, out.body); }},
                       {"headers", [&](const Value& f) { r_.readStringMap(f, out.headers); }},
                   }});
  }

  void readRedirect(const Value& v, RedirectAction& out) {
    r_.readMap(v, {"redirect",
                   {
                       {"to", [&](const Value& f) { r_.readString(f, out.to); }, true},
                       {"status", [&](const Value& f) { r_.readInteger(f, out.status); }},
                   }});
  }

  void readStatic(const Value& v, StaticAction& out) {
    r_.readMap(v, {"static",
                   {
                       {"root", [&](const Value& f) { r_.readString(f, out.root); }, true},
                       {"index", [&](const Value& f) { r_.readString(f, out.index); }},
                       {"spa_fallback", [&](const Value& f) { r_.readBool(f, out.spa_fallback); }},
                   }});
  }

  void readUpstreamTls(const Value& v, UpstreamTlsConfig& out) {
    out.enabled = true;  // a tls section turns it on unless it says otherwise
    r_.readMap(v, {"tls",
                   {
                       {"enabled", [&](const Value& f) { r_.readBool(f, out.enabled); }},
                       {"verify", [&](const Value& f) { r_.readBool(f, out.verify); }},
                       {"ca", [&](const Value& f) { r_.readString(f, out.ca); }},
                       {"sni", [&](const Value& f) { r_.readString(f, out.sni); }},
                   }});
  }

  ClusterConfig readCluster(const Value& v) {
    ClusterConfig c;
    c.name.clear();  // as for listeners: a missing name must not become a second "app"
    r_.readMap(v, {"cluster",
                   {
                       {"name", [&](const Value& f) { r_.readString(f, c.name); }, true},
                       {"endpoints",
                        [&](const Value& f) {
                          r_.readList(f, [&](const Value& item) { c.endpoints.push_back(readEndpoint(item)); });
                        },
                        true},
                       {"balance", [&](const Value& f) { readBalance(f, c.balance); }},
                       {"hash_on", [&](const Value& f) { r_.readString(f, c.hash_on); }},
                       {"connect_timeout", [&](const Value& f) { r_.readDuration(f, c.connect_timeout); }},
                       {"response_timeout", [&](const Value& f) { r_.readDuration(f, c.response_timeout); }},
                       {"idle_timeout", [&](const Value& f) { r_.readDuration(f, c.idle_timeout); }},
                       {"max_idle_per_endpoint", [&](const Value& f) { r_.readInteger(f, c.max_idle_per_endpoint); }},
                       {"retries",
                        [&](const Value& f) {
                          r_.readMap(f, {"retries",
                                         {{"attempts", [&](const Value& a) { r_.readInteger(a, c.retries.attempts); }},
                                          {"wait_while_refused",
                                           [&](const Value& a) { r_.readDuration(a, c.retries.wait_while_refused); }}}});
                        }},
                       {"max_requests_per_endpoint",
                        [&](const Value& f) { r_.readInteger(f, c.max_requests_per_endpoint); }},
                       {"queue", [&](const Value& f) { readQueue(f, c.queue.emplace()); }},
                       {"health_check", [&](const Value& f) { readHealthCheck(f, c.health_check.emplace()); }},
                       {"outlier_detection", [&](const Value& f) { readOutlier(f, c.outlier_detection); }},
                       {"panic_threshold", [&](const Value& f) { r_.readPercent(f, c.panic_threshold_percent); }},
                       {"slow_start", [&](const Value& f) { r_.readDuration(f, c.slow_start); }},
                       {"dns_refresh", [&](const Value& f) { r_.readDuration(f, c.dns_refresh); }},
                       {"tls", [&](const Value& f) { readUpstreamTls(f, c.tls); }},
                   }});
    return c;
  }

  void readQueue(const Value& v, QueueConfig& out) {
    r_.readMap(v, {"queue",
                   {
                       {"max", [&](const Value& f) { r_.readInteger(f, out.max); }},
                       {"timeout", [&](const Value& f) { r_.readDuration(f, out.timeout); }},
                   }});
  }

  void readHealthCheck(const Value& v, HealthCheckConfig& out) {
    r_.readMap(v, {"health_check",
                   {
                       {"path", [&](const Value& f) { r_.readString(f, out.path); }},
                       {"tcp", [&](const Value& f) { r_.readBool(f, out.tcp); }},
                       {"host", [&](const Value& f) { r_.readString(f, out.host); }},
                       {"interval", [&](const Value& f) { r_.readDuration(f, out.interval); }},
                       {"timeout", [&](const Value& f) { r_.readDuration(f, out.timeout); }},
                       {"jitter", [&](const Value& f) { r_.readPercent(f, out.jitter_percent); }},
                       {"healthy_threshold", [&](const Value& f) { r_.readInteger(f, out.healthy_threshold); }},
                       {"unhealthy_threshold", [&](const Value& f) { r_.readInteger(f, out.unhealthy_threshold); }},
                       {"expected_status", [&](const Value& f) { readStatusRange(f, out); }},
                   }});
  }

  // "200", "200-399"
  void readStatusRange(const Value& v, HealthCheckConfig& out) {
    auto t = r_.text(v);
    if (!t) return;
    const std::string_view s = *t;
    const std::size_t dash = s.find('-');
    auto number = [](std::string_view part) -> std::optional<std::uint16_t> {
      std::uint16_t n = 0;
      auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
      if (part.empty() || ec != std::errc{} || ptr != part.data() + part.size()) return std::nullopt;
      return n;
    };
    const auto low = number(s.substr(0, dash));
    const auto high = dash == std::string_view::npos ? low : number(s.substr(dash + 1));
    if (!low || !high || *low < 100 || *high > 599 || *low > *high) {
      r_.error(v, fmt::format("expected_status must be a status or a range such as 200-399, not '{}'", s));
      return;
    }
    out.expected_status_min = *low;
    out.expected_status_max = *high;
  }

  void readOutlier(const Value& v, OutlierConfig& out) {
    r_.readMap(v, {"outlier_detection",
                   {
                       {"consecutive_failures", [&](const Value& f) { r_.readInteger(f, out.consecutive_failures); }},
                       {"ejection_time", [&](const Value& f) { r_.readDuration(f, out.ejection_time); }},
                       {"max_ejection_percent", [&](const Value& f) { r_.readPercent(f, out.max_ejection_percent); }},
                   }});
  }

  EndpointConfig readEndpoint(const Value& v) {
    EndpointConfig e;
    r_.readMap(v, {"endpoint",
                   {
                       {"address", [&](const Value& f) { r_.readHostPort(f, e.address); }, true},
                       {"weight", [&](const Value& f) { r_.readInteger(f, e.weight); }},
                   }});
    return e;
  }

  void readBalance(const Value& v, BalancePolicy& out) {
    static constexpr std::array<BalancePolicy, 4> kPolicies = {BalancePolicy::RoundRobin, BalancePolicy::LeastRequest,
                                                               BalancePolicy::Random, BalancePolicy::Hash};
    if (auto index = r_.readChoice(v, kBalanceNames)) out = kPolicies[*index];
  }

  void readTimeouts(const Value& v, ClientTimeouts& out) {
    r_.readMap(v, {"timeouts",
                   {
                       {"request_header", [&](const Value& f) { r_.readDuration(f, out.request_header); }},
                       {"keepalive_idle", [&](const Value& f) { r_.readDuration(f, out.keepalive_idle); }},
                       {"request_body_idle", [&](const Value& f) { r_.readDuration(f, out.request_body_idle); }},
                       {"response_send_idle", [&](const Value& f) { r_.readDuration(f, out.response_send_idle); }},
                   }});
  }

  void readLimits(const Value& v, Limits& out) {
    r_.readMap(v, {"limits",
                   {
                       {"max_request_header_bytes",
                        [&](const Value& f) { r_.readSize(f, out.max_request_header_bytes); }},
                       {"max_request_body_bytes",
                        [&](const Value& f) { r_.readSize(f, out.max_request_body_bytes); }},
                       {"max_connections", [&](const Value& f) { r_.readInteger(f, out.max_connections); }},
                   }});
  }

  void readForwarding(const Value& v, ForwardingConfig& out) {
    r_.readMap(v, {"forwarding",
                   {
                       {"trusted_proxies",
                        [&](const Value& f) {
                          r_.readList(f, [&](const Value& item) {
                            // A broken entry keeps its slot (as a /32 of 0.0.0.0, which matches no
                            // peer) so later entries keep their index; the load fails anyway.
                            out.trusted_proxies.push_back(r_.readCidr(item).value_or(Cidr{false, {}, 32}));
                          });
                        }},
                       {"request_id_header", [&](const Value& f) { r_.readString(f, out.request_id_header); }},
                   }});
  }

  void readDrain(const Value& v, DrainConfig& out) {
    r_.readMap(v, {"drain",
                   {
                       {"delay", [&](const Value& f) { r_.readDuration(f, out.delay); }},
                       {"timeout", [&](const Value& f) { r_.readDuration(f, out.timeout); }},
                       {"budget", [&](const Value& f) { r_.readDuration(f, out.budget); }},
                   }});
  }

  void readAdmin(const Value& v, AdminConfig& out) {
    r_.readMap(v, {"admin",
                   {
                       {"address", [&](const Value& f) { r_.readHostPort(f, out.address); }},
                       {"token", [&](const Value& f) { r_.readString(f, out.token); }},
                   }});
  }

  void readApp(const Value& v, AppConfig& out) {
    r_.readMap(v, {"app",
                   {
                       {"command",
                        [&](const Value& f) {
                          r_.readList(f, [&](const Value& item) { r_.readString(item, out.command.emplace_back()); });
                        }},
                       {"stop_signal",
                        [&](const Value& f) {
                          if (auto index = r_.readChoice(f, kStopSignalNames)) out.stop_signal = kStopSignals[*index];
                        }},
                       {"stop_timeout", [&](const Value& f) { r_.readDuration(f, out.stop_timeout); }},
                       {"ready_cluster", [&](const Value& f) { r_.readString(f, out.ready_cluster); }},
                       {"forward_sighup", [&](const Value& f) { r_.readBool(f, out.forward_sighup); }},
                   }});
  }

  void readLog(const Value& v, LogConfig& out) {
    r_.readMap(v, {"log",
                   {
                       // The level is a string in Config; validate.cpp checks it, for code-built configs too.
                       {"level", [&](const Value& f) { r_.readString(f, out.level); }},
                       {"access",
                        [&](const Value& f) {
                          if (auto index = r_.readChoice(f, kAccessNames)) out.access = kAccessFormats[*index];
                        }},
                   }});
  }

  YamlReader& r_;
};

}  // namespace

Config readConfig(YamlReader& reader, const YAML::Node& root) { return SchemaReader(reader).read(root); }

}  // namespace fairlead::config

// The Prometheus text format (exposition format 0.0.4): every family gets HELP and TYPE once,
// then its samples; label values are escaped; histograms are cumulative with a +Inf bucket.
#include <fmt/format.h>

#include "admin/admin_service.hpp"
#include "net/tls_context.hpp"

namespace fairlead::admin {
namespace {

constexpr const char* kClassNames[6] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};

std::string escapeLabel(std::string_view v) {
  std::string out;
  for (const char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

class Exposition {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void family(std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  template <typename T>
  void sample(std::string_view name, Labels labels, T value) {
    out_.append(name);
    writeLabels(labels, {});
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }
  void histogram(std::string_view name, Labels labels, const Histogram& h) {
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < h.counts.size(); ++b) {
      cumulative += h.counts[b];
      const std::string le = b < h.upper_bounds.size() ? fmt::format("{}", h.upper_bounds[b]) : "+Inf";
      out_.append(name).append("_bucket");
      writeLabels(labels, le);
      fmt::format_to(std::back_inserter(out_), " {}\n", cumulative);
    }
    if (h.counts.empty()) {  // nothing recorded yet: still one +Inf bucket, as the format wants
      out_.append(name).append("_bucket");
      writeLabels(labels, "+Inf");
      out_.append(" 0\n");
    }
    out_.append(name).append("_sum");
    writeLabels(labels, {});
    fmt::format_to(std::back_inserter(out_), " {}\n", h.sum_seconds);
    out_.append(name).append("_count");
    writeLabels(labels, {});
    fmt::format_to(std::back_inserter(out_), " {}\n", h.count);
  }
  std::string take() { return std::move(out_); }

 private:
  void writeLabels(Labels labels, std::string_view le) {
    if (labels.size() == 0 && le.empty()) return;
    out_.push_back('{');
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_.push_back(',');
      first = false;
      fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", k, escapeLabel(v));
    }
    if (!le.empty()) fmt::format_to(std::back_inserter(out_), "{}le=\"{}\"", first ? "" : ",", le);
    out_.push_back('}');
  }

  std::string out_;
};

void processFamilies(Exposition& e, const ProcessState& p) {
  e.family("fairlead_build_info", "gauge", "Always 1; the version is in the label.");
  e.sample("fairlead_build_info", {{"version", p.version}}, 1);
  e.family("fairlead_process_start_time_seconds", "gauge", "When the proxy started, in seconds since the Unix epoch.");
  e.sample("fairlead_process_start_time_seconds", {},
           std::chrono::duration_cast<std::chrono::seconds>(p.started.time_since_epoch()).count());
  e.family("fairlead_ready", "gauge", "1 while /ready answers 200.");
  e.sample("fairlead_ready", {}, p.ready ? 1 : 0);
  e.family("fairlead_draining", "gauge", "1 once a drain has begun (SIGTERM, SIGINT, POST /drain).");
  e.sample("fairlead_draining", {}, p.draining ? 1 : 0);
  e.family("fairlead_reloads_total", "counter", "Configuration reloads, by result.");
  e.sample("fairlead_reloads_total", {{"result", "ok"}}, p.reloads_ok);
  e.sample("fairlead_reloads_total", {{"result", "failed"}}, p.reloads_failed);
}

void trafficFamilies(Exposition& e, const Stats& s) {
  const auto counter = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    e.family(name, "counter", help);
    e.sample(name, {}, v);
  };
  const auto gauge = [&](std::string_view name, std::string_view help, std::uint64_t v) {
    e.family(name, "gauge", help);
    e.sample(name, {}, v);
  };
  counter("fairlead_downstream_connections_total", "Client connections accepted.", s.downstream_connections_total);
  gauge("fairlead_downstream_connections_active", "Client connections open now.", s.downstream_connections_active);
  counter("fairlead_downstream_connections_refused_total",
          "Client connections answered 503 and closed: limits.max_connections was reached.",
          s.downstream_connections_refused);
  counter("fairlead_accept_pauses_total", "Times accepting paused for 100 ms: out of file descriptors.",
          s.accept_pauses_total);
  gauge("fairlead_requests_active", "Requests in progress now.", s.requests_active);
  counter("fairlead_received_bytes_total", "Bytes received from clients.", s.bytes_received);
  counter("fairlead_sent_bytes_total", "Bytes sent to clients.", s.bytes_sent);
  counter("fairlead_upstream_connections_total", "Connections opened to endpoints.", s.upstream_connections_total);
  counter("fairlead_upstream_retries_total", "Requests sent again to another endpoint after a failed attempt.",
          s.upstream_retries_total);
  counter("fairlead_upstream_retries_over_budget_total",
          "Safe retries not made because the cluster's retry budget was spent.", s.upstream_retries_over_budget);
  counter("fairlead_client_send_timeouts_total",
          "Client connections cut for taking no response bytes for timeouts.response_send_idle.",
          s.client_send_timeouts);

  e.family("fairlead_tls_handshakes_total", "counter",
           "TLS handshakes completed on listeners, by kind: full, or resumed from a session ticket.");
  e.sample("fairlead_tls_handshakes_total", {{"kind", "full"}}, s.tls_handshakes_full);
  e.sample("fairlead_tls_handshakes_total", {{"kind", "resumed"}}, s.tls_handshakes_resumed);
  e.family("fairlead_tls_handshake_failures_total", "counter",
           "TLS handshakes on listeners that did not finish, by reason: version (below min_version), cipher (none "
           "in common), not_tls (plain HTTP or garbage), certificate (the client refused ours), unfinished (closed "
           "or timed out first), other.");
  for (std::size_t i = 0; i < net::kTlsFailureKinds; ++i) {
    e.sample("fairlead_tls_handshake_failures_total", {{"reason", net::toString(static_cast<net::TlsFailure>(i))}},
             s.tls_handshake_failures[i]);
  }

  e.family("fairlead_requests_total", "counter",
           "Requests finished, by listener and the class of their status (none: the request ended with no status at all).");
  for (const ListenerStats& l : s.listeners) {
    for (std::size_t k = 0; k < 6; ++k) {
      e.sample("fairlead_requests_total", {{"listener", l.name}, {"code_class", kClassNames[k]}},
               l.responses_by_class[k]);
    }
  }
  e.family("fairlead_request_duration_seconds", "histogram",
           "From the first byte of a request to the end of its response, by listener.");
  for (const ListenerStats& l : s.listeners) e.histogram("fairlead_request_duration_seconds", {{"listener", l.name}}, l.duration);
}

void clusterFamilies(Exposition& e, const std::vector<ClusterStats>& clusters) {
  e.family("fairlead_upstream_response_seconds", "histogram",
           "From the moment a request was given to the cluster (time in its queue included) until a response head arrived, by cluster.");
  for (const ClusterStats& c : clusters) {
    e.histogram("fairlead_upstream_response_seconds", {{"cluster", c.name}}, c.upstream_response);
  }
  const auto perCluster = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    e.family(name, type, help);
    for (const ClusterStats& c : clusters) e.sample(name, {{"cluster", c.name}}, value(c));
  };
  perCluster("fairlead_cluster_panic", "gauge", "1 while too few endpoints are healthy and all of them get requests.",
             [](const ClusterStats& c) { return c.panic ? 1 : 0; });
  perCluster("fairlead_cluster_queue_length", "gauge", "Requests waiting for a slot (max_requests_per_endpoint).",
             [](const ClusterStats& c) { return c.queued; });
  perCluster("fairlead_cluster_queue_waits_total", "counter", "Requests that waited in the queue and got a slot.",
             [](const ClusterStats& c) { return c.queue_waits_total; });
  perCluster("fairlead_cluster_queue_wait_seconds_total", "counter", "Time those requests waited, added up.",
             [](const ClusterStats& c) { return static_cast<double>(c.queue_wait_ms_total) / 1000.0; });
  perCluster("fairlead_cluster_queue_overflows_total", "counter",
             "Requests answered 503 at once: every slot taken and the queue full.",
             [](const ClusterStats& c) { return c.queue_overflows_total; });

  const auto perEndpoint = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    e.family(name, type, help);
    for (const ClusterStats& c : clusters) {
      for (const EndpointStats& ep : c.endpoints) {
        e.sample(name, {{"cluster", c.name}, {"endpoint", ep.address}}, value(ep));
      }
    }
  };
  perEndpoint("fairlead_endpoint_healthy", "gauge",
              "1 healthy, 0 unhealthy, -1 unknown (no active checks, or none finished yet).",
              [](const EndpointStats& ep) { return ep.health == "healthy" ? 1 : ep.health == "unhealthy" ? 0 : -1; });
  perEndpoint("fairlead_endpoint_pick_weight", "gauge",
              "The share balancers give the endpoint now: weight x 100, ramped by slow start; 0: no new requests.",
              [](const EndpointStats& ep) { return ep.pick_weight; });
  perEndpoint("fairlead_endpoint_ejected", "gauge", "1 while outlier detection keeps the endpoint out.",
              [](const EndpointStats& ep) { return ep.ejected ? 1 : 0; });
  perEndpoint("fairlead_endpoint_draining", "gauge", "1 once the endpoint is being taken out (POST /clusters/NAME/endpoints/ADDR/drain, Proxy::drainEndpoint).",
              [](const EndpointStats& ep) { return ep.draining ? 1 : 0; });
  perEndpoint("fairlead_endpoint_ejections_total", "counter", "Times outlier detection ejected the endpoint.",
              [](const EndpointStats& ep) { return ep.ejections_total; });
  perEndpoint("fairlead_endpoint_health_transitions_total", "counter",
              "Changes of the endpoint's state: healthy, unhealthy, ejected, back from ejection, draining.",
              [](const EndpointStats& ep) { return ep.health_transitions_total; });
  perEndpoint("fairlead_upstream_active_requests", "gauge", "Requests in flight at the endpoint.",
              [](const EndpointStats& ep) { return ep.active_requests; });

  e.family("fairlead_health_checks_total", "counter", "Active health checks finished, by result.");
  for (const ClusterStats& c : clusters) {
    for (const EndpointStats& ep : c.endpoints) {
      e.sample("fairlead_health_checks_total", {{"cluster", c.name}, {"endpoint", ep.address}, {"result", "passed"}},
               ep.checks_passed_total);
      e.sample("fairlead_health_checks_total", {{"cluster", c.name}, {"endpoint", ep.address}, {"result", "failed"}},
               ep.checks_failed_total);
    }
  }
  e.family("fairlead_upstream_responses_total", "counter", "Response heads from the endpoint, by status class.");
  for (const ClusterStats& c : clusters) {
    for (const EndpointStats& ep : c.endpoints) {
      for (std::size_t k = 1; k < 6; ++k) {
        e.sample("fairlead_upstream_responses_total",
                 {{"cluster", c.name}, {"endpoint", ep.address}, {"code_class", kClassNames[k]}},
                 ep.responses_by_class[k]);
      }
    }
  }
  e.family("fairlead_upstream_failures_total", "counter",
           "Failed attempts at the endpoint, by kind: connect, reset, timeout, server_error (a 5xx).");
  for (const ClusterStats& c : clusters) {
    for (const EndpointStats& ep : c.endpoints) {
      const std::pair<const char*, std::uint64_t> kinds[] = {{"connect", ep.failures_connect},
                                                             {"reset", ep.failures_reset},
                                                             {"timeout", ep.failures_timeout},
                                                             {"server_error", ep.failures_server_error}};
      for (const auto& [kind, n] : kinds) {
        e.sample("fairlead_upstream_failures_total", {{"cluster", c.name}, {"endpoint", ep.address}, {"kind", kind}}, n);
      }
    }
  }
}

}  // namespace

std::string renderMetrics(const ProcessState& process, const Stats& stats, const std::vector<ClusterStats>& clusters) {
  Exposition e;
  processFamilies(e, process);
  trafficFamilies(e, stats);
  clusterFamilies(e, clusters);
  return e.take();
}

}  // namespace fairlead::admin

// fairlead::Stats: counters summed over all workers at the moment Proxy::stats() is called.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fairlead {

// A latency histogram summed over all workers: counts[i] requests took at most upper_bounds[i]
// seconds and more than upper_bounds[i-1]; the last count (one more than there are bounds) is
// everything slower than the last bound.
struct Histogram {
  std::vector<double> upper_bounds;  // seconds
  std::vector<std::uint64_t> counts;
  double sum_seconds = 0;
  std::uint64_t count = 0;
};

// One listener's requests (a reload keeps the counts of a listener whose name stays).
struct ListenerStats {
  std::string name;
  std::uint64_t responses_by_class[6] = {};  // index 1..5: 1xx..5xx; 0: no response was sent
  Histogram duration;                        // from the request's first byte to the end of its response
};

struct Stats {
  std::uint64_t downstream_connections_total = 0;
  std::uint64_t downstream_connections_active = 0;
  std::uint64_t downstream_connections_refused = 0;  // over limits.max_connections
  std::uint64_t accept_pauses_total = 0;  // out of descriptors: accepting paused for 100 ms
  std::uint64_t requests_total = 0;
  std::uint64_t requests_active = 0;
  std::uint64_t responses_by_class[6] = {};  // index 1..5: 1xx..5xx
  std::uint64_t upstream_connections_total = 0;  // connections ever opened to endpoints
  std::uint64_t upstream_retries_total = 0;
  std::uint64_t upstream_retries_over_budget = 0;  // safe retries not made: the retry budget was spent
  std::uint64_t client_send_timeouts = 0;  // cut for taking no response bytes (response_send_idle)
  std::uint64_t bytes_received = 0;  // from clients
  std::uint64_t bytes_sent = 0;      // to clients
  std::uint64_t tls_handshakes_full = 0;
  std::uint64_t tls_handshakes_resumed = 0;  // a session ticket spared the key exchange
  // Handshakes that did not finish, by reason: version, cipher, not_tls, certificate, unfinished, other.
  std::uint64_t tls_handshake_failures[6] = {};
  std::vector<ListenerStats> listeners;  // config order
};

// One endpoint of a cluster as its monitor sees it (Proxy::clusters()).
struct EndpointStats {
  std::string address;    // "ip:port" as resolved
  std::string authority;  // "host:port" as configured
  std::uint32_t weight = 0;       // configured
  std::uint32_t pick_weight = 0;  // what the balancers use now: weight × 100, ramped; 0: no new requests
  std::string health;             // "healthy", "unhealthy", or "unknown" (no active checks, or none yet)
  bool ejected = false;
  bool draining = false;
  std::uint64_t ejections_total = 0;
  std::uint64_t health_transitions_total = 0;
  std::string last_transition;  // "unhealthy: connect: connection refused", "ejected for 30000 ms ..."
  std::uint64_t active_requests = 0;
  std::uint64_t responses_by_class[6] = {};  // index 1..5: 1xx..5xx, from this endpoint
  // Failed attempts by kind: connect (refused or failed), reset (closed, reset, malformed response),
  // timeout (connect or response), server_error (a 5xx answer).
  std::uint64_t failures_connect = 0;
  std::uint64_t failures_reset = 0;
  std::uint64_t failures_timeout = 0;
  std::uint64_t failures_server_error = 0;
  std::uint64_t checks_passed_total = 0;  // active health checks
  std::uint64_t checks_failed_total = 0;
};

struct ClusterStats {
  std::string name;
  bool panic = false;             // too few healthy endpoints: sending to all of them
  std::uint64_t queued = 0;       // requests waiting for a slot now (max_requests_per_endpoint)
  std::uint64_t queue_waits_total = 0;     // requests that waited and got a slot
  std::uint64_t queue_wait_ms_total = 0;   // their waits, added up
  std::uint64_t queue_overflows_total = 0; // requests refused: every slot taken and the queue full
  // From the moment a request was given to the cluster until a response head arrived (time in the
  // queue and retries included).
  Histogram upstream_response;
  std::vector<EndpointStats> endpoints;
};

}  // namespace fairlead

// fairlead::Stats: counters summed over all workers at the moment Proxy::stats() is called.
#pragma once

#include <cstdint>

namespace fairlead {

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
};

}  // namespace fairlead

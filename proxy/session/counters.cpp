#include "session/worker_context.hpp"

namespace fairlead::session {

void Counters::addTo(Stats& out) const noexcept {
  auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  out.downstream_connections_total += get(downstream_connections_total);
  out.downstream_connections_active += get(downstream_connections_active);
  out.downstream_connections_refused += get(downstream_connections_refused);
  out.accept_pauses_total += get(accept_pauses_total);
  out.requests_total += get(requests_total);
  out.requests_active += get(requests_active);
  for (int i = 0; i < 6; ++i) out.responses_by_class[i] += get(responses_by_class[i]);
  out.upstream_connections_total += get(upstream_connections_total);
  out.upstream_retries_total += get(upstream_retries_total);
  out.upstream_retries_over_budget += get(upstream_retries_over_budget);
  out.client_send_timeouts += get(client_send_timeouts);
  out.bytes_received += get(bytes_received);
  out.bytes_sent += get(bytes_sent);
  out.tls_handshakes_full += get(tls.handshakes_full);
  out.tls_handshakes_resumed += get(tls.handshakes_resumed);
  static_assert(std::size(Stats{}.tls_handshake_failures) == net::kTlsFailureKinds);
  for (std::size_t i = 0; i < net::kTlsFailureKinds; ++i) out.tls_handshake_failures[i] += get(tls.failures[i]);
}

}  // namespace fairlead::session

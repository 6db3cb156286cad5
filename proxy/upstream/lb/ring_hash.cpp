#include "upstream/lb/ring_hash.hpp"

#include <algorithm>
#include <string>

namespace fairlead::upstream {

RingHashBalancer::RingHashBalancer(const ClusterSnapshot& cluster) {
  for (std::uint32_t e = 0; e < cluster.endpoints.size(); ++e) {
    const Endpoint& endpoint = cluster.endpoints[e];
    // Points from the configured weight, not the ramping one: a key must not move as slow start
    // goes on. An endpoint that takes no requests has none, so only its own keys move.
    if (endpoint.pick_weight == 0) continue;
    const std::uint64_t points =
        std::min<std::uint64_t>(std::uint64_t{endpoint.weight} * kPointsPerWeight, kMaxPointsPerEndpoint);
    std::string name = endpoint.peer + '#';
    const std::size_t base = name.size();
    for (std::uint64_t p = 0; p < points; ++p) {
      name.resize(base);
      name += std::to_string(p);
      ring_.emplace_back(hashKey(name), e);
    }
  }
  std::sort(ring_.begin(), ring_.end());
}

std::size_t RingHashBalancer::pick(const PickRequest& request) noexcept {
  if (ring_.empty()) return kNone;
  auto it = std::lower_bound(ring_.begin(), ring_.end(), std::pair<std::uint64_t, std::uint32_t>{request.hash, 0});
  if (it == ring_.end()) it = ring_.begin();
  const std::size_t first = it->second;
  // Walk on past the endpoints already tried; having tried them all, stay with the key's own.
  for (std::size_t n = 0; n < ring_.size(); ++n) {
    if (!wasTried(request, it->second)) return it->second;
    if (++it == ring_.end()) it = ring_.begin();
  }
  return first;
}

}  // namespace fairlead::upstream

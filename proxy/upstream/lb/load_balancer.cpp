#include "upstream/lb/load_balancer.hpp"

#include "core/random.hpp"
#include "upstream/lb/least_request.hpp"
#include "upstream/lb/random.hpp"
#include "upstream/lb/ring_hash.hpp"
#include "upstream/lb/round_robin.hpp"

namespace fairlead::upstream {

std::unique_ptr<LoadBalancer> makeLoadBalancer(const ClusterSnapshot& cluster, std::uint64_t seed,
                                               std::size_t worker) {
  switch (cluster.config.balance) {
    case BalancePolicy::RoundRobin: break;
    case BalancePolicy::LeastRequest: return std::make_unique<LeastRequestBalancer>(cluster, seed, worker);
    case BalancePolicy::Random: return std::make_unique<RandomBalancer>(cluster, seed);
    case BalancePolicy::Hash: return std::make_unique<RingHashBalancer>(cluster);
  }
  return std::make_unique<RoundRobinBalancer>(cluster, seed);
}

LoadBalancer& Balancers::forCluster(const ClusterSnapshot& cluster) {
  if (cluster.id >= by_id_.size()) by_id_.resize(cluster.id + 1);
  Slot& slot = by_id_[cluster.id];
  if (!slot.balancer || slot.version != cluster.version) {
    slot = Slot{cluster.version, makeLoadBalancer(cluster, seed_, worker_)};
  }
  return *slot.balancer;
}

std::uint64_t hashKey(std::string_view key) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  // FNV's low bits alone spread poorly over a ring.
  return core::mix64(h);
}

}  // namespace fairlead::upstream

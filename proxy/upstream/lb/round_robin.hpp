// RoundRobinBalancer: smooth weighted round robin (nginx's): with weights 5, 1, 1 the order is
// a a b a c a a, each endpoint spread out rather than in runs, and exact shares over every cycle.
#pragma once

#include <cstdint>
#include <vector>

#include "upstream/lb/load_balancer.hpp"

namespace fairlead::upstream {

class RoundRobinBalancer final : public LoadBalancer {
 public:
  RoundRobinBalancer(const ClusterSnapshot& cluster, std::uint64_t seed);
  std::size_t pick(const PickRequest& request) noexcept override;

 private:
  std::size_t pickAmong(const PickRequest& request, bool skip_tried) noexcept;

  std::vector<std::int64_t> weight_;
  std::vector<std::int64_t> current_;
};

}  // namespace fairlead::upstream

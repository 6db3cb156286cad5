// RoundRobin: one worker's place in each cluster's rotation, by cluster id, so that it carries
// over when a new snapshot of the same cluster arrives. Touched only on that worker's loop.
#pragma once

#include <cstddef>
#include <vector>

#include "upstream/cluster.hpp"

namespace fairlead::upstream {

class RoundRobin {
 public:
  // seed: where a worker starts, so that workers do not all begin with the first endpoint.
  explicit RoundRobin(std::size_t seed) noexcept : seed_(seed) {}

  std::size_t pick(const ClusterSnapshot& cluster) {
    if (cluster.id >= next_.size()) next_.resize(cluster.id + 1, seed_);
    return next_[cluster.id]++ % cluster.endpoints.size();
  }

 private:
  std::size_t seed_;
  std::vector<std::size_t> next_;
};

}  // namespace fairlead::upstream

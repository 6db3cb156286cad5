// LoadBalancer: picks the endpoint of one cluster that a request (or its retry) goes to. One per
// cluster per worker, on that worker's loop; built from the cluster's snapshot, whose pick weights
// carry health, ejection, drain and slow start. Every policy picks among the endpoints that take
// requests and were not yet tried for the request, and falls back to those tried when each was
// (a retry on a fresh connection to the only endpoint is the keep-alive race's cure).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "upstream/cluster.hpp"

namespace fairlead::upstream {

struct PickRequest {
  std::uint64_t hash = 0;   // hash policy: the request's key, hashed (hashKey)
  std::uint64_t tried = 0;  // bit i: endpoint i already tried; endpoints past 64 are never excluded
};

class LoadBalancer {
 public:
  // No endpoint takes requests (all unhealthy with panic mode off, or all draining).
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

  virtual ~LoadBalancer() = default;
  // An index into the cluster's endpoints, or kNone.
  virtual std::size_t pick(const PickRequest& request) noexcept = 0;
};

// seed: per worker, so that workers do not all start with the same endpoint; worker: whose
// requests-in-flight counts least_request compares.
std::unique_ptr<LoadBalancer> makeLoadBalancer(const ClusterSnapshot& cluster, std::uint64_t seed,
                                               std::size_t worker);

// One worker's balancers, by cluster id, built on first use and again for each new snapshot of the
// cluster (round robin's position starts afresh then; requests in flight are counted elsewhere).
class Balancers {
 public:
  Balancers(std::uint64_t seed, std::size_t worker) noexcept : seed_(seed), worker_(worker) {}
  LoadBalancer& forCluster(const ClusterSnapshot& cluster);

 private:
  struct Slot {
    std::uint64_t version = 0;
    std::unique_ptr<LoadBalancer> balancer;
  };
  std::uint64_t seed_;
  std::size_t worker_;
  std::vector<Slot> by_id_;
};

// A 64-bit hash of a request's key (client IP, a header's value, a cookie's value): FNV-1a with a
// final mix, so that keys differing in one byte land far apart on a ring.
std::uint64_t hashKey(std::string_view key) noexcept;

inline bool wasTried(const PickRequest& r, std::size_t i) noexcept {
  return i < 64 && (r.tried & (std::uint64_t{1} << i)) != 0;
}

}  // namespace fairlead::upstream

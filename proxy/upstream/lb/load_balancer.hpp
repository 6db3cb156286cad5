// LoadBalancer: picks the endpoint of one cluster that a request (or its retry) goes to. One per
// cluster per worker, on that worker's loop; built from the cluster's snapshot. Every policy picks
// among the endpoints not yet tried for the request, and falls back to all of them when each was
// tried (a retry on a fresh connection to the only endpoint is the keep-alive race's cure).
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
  virtual ~LoadBalancer() = default;
  // An index into the cluster's endpoints; the cluster has at least one.
  virtual std::size_t pick(const PickRequest& request) noexcept = 0;
  // Requests in flight per endpoint, for least_request; the others ignore them.
  virtual void requestStarted(std::size_t) noexcept {}
  virtual void requestEnded(std::size_t) noexcept {}
};

// seed: per worker, so that workers do not all start with the same endpoint.
std::unique_ptr<LoadBalancer> makeLoadBalancer(const ClusterSnapshot& cluster, std::uint64_t seed);

// One worker's balancers, by cluster id, built on first use and again when a cluster's snapshot
// changes (its state, such as requests in flight, starts afresh then).
class Balancers {
 public:
  explicit Balancers(std::uint64_t seed) noexcept : seed_(seed) {}
  LoadBalancer& forCluster(const ClusterSnapshot& cluster);

 private:
  struct Slot {
    const ClusterSnapshot* built_for = nullptr;
    std::size_t endpoints = 0;  // with the address: a new snapshot at a freed one's address
    std::unique_ptr<LoadBalancer> balancer;
  };
  std::uint64_t seed_;
  std::vector<Slot> by_id_;
};

// A 64-bit hash of a request's key (client IP, a header's value, a cookie's value): FNV-1a with a
// final mix, so that keys differing in one byte land far apart on a ring.
std::uint64_t hashKey(std::string_view key) noexcept;

inline bool wasTried(const PickRequest& r, std::size_t i) noexcept {
  return i < 64 && (r.tried & (std::uint64_t{1} << i)) != 0;
}

}  // namespace fairlead::upstream

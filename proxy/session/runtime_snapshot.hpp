// RuntimeSnapshot: everything a request needs from the configuration, immutable once built: the
// config itself, each listener's routes, each cluster's endpoints. Built on the control thread and
// shared by every worker; a request keeps the snapshot it started with, so a new one (a reload)
// is a pointer swap that never changes a request in flight.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include <fairlead/config.hpp>

#include "core/latency_histogram.hpp"
#include "net/tls_context.hpp"
#include "session/router.hpp"
#include "upstream/cluster.hpp"

namespace fairlead::session {

// One worker's counts for one listener, written by that worker only (see core::LatencyCounts).
struct alignas(64) ListenerCounters {
  std::atomic<std::uint64_t> responses_by_class[6] = {};  // [0]: no response; [1..5]: 1xx..5xx
  core::LatencyCounts duration;
};
using ListenerBlocks = std::vector<ListenerCounters>;  // per worker

struct RuntimeSnapshot {
  std::shared_ptr<const Config> config;
  // One per listener, config order; shared by the snapshots of one config, which differ only in
  // their clusters' health.
  std::shared_ptr<const std::vector<Router>> routers;
  std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters;  // config order
  // One per listener, config order; a listener keeps its counts while its name stays.
  std::vector<std::shared_ptr<ListenerBlocks>> listener_counters;
  // One per listener, config order: the id its sockets and sessions know it by, kept by a reload
  // while its address stays (config order may change, the id does not).
  std::vector<std::uint16_t> listener_ids;
  // One per listener, config order: its TLS context (null for plain HTTP), and the
  // Strict-Transport-Security value its responses carry (empty: none).
  std::vector<std::shared_ptr<const net::TlsServerContext>> listener_tls;
  std::vector<std::string> listener_hsts;

  // Where the listener of that id is in this snapshot's config; none once a reload removed it.
  std::optional<std::size_t> listenerIndex(std::uint16_t id) const noexcept {
    for (std::size_t i = 0; i < listener_ids.size(); ++i) {
      if (listener_ids[i] == id) return i;
    }
    return std::nullopt;
  }

  // previous: the snapshot this one replaces (a reload), whose listener counts carry over by name.
  static std::shared_ptr<const RuntimeSnapshot> build(
      std::shared_ptr<const Config> config, std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters,
      std::vector<std::uint16_t> listener_ids, std::vector<std::shared_ptr<const net::TlsServerContext>> listener_tls,
      std::size_t workers, const RuntimeSnapshot* previous = nullptr);
  // The same config and routes with the clusters as they are now.
  std::shared_ptr<const RuntimeSnapshot> withClusters(
      std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> now) const;
};

}  // namespace fairlead::session

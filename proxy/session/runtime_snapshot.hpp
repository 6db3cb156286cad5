// RuntimeSnapshot: everything a request needs from the configuration, immutable once built: the
// config itself, each listener's routes, each cluster's endpoints. Built on the control thread and
// shared by every worker; a request keeps the snapshot it started with, so a new one (a reload)
// is a pointer swap that never changes a request in flight.
#pragma once

#include <memory>
#include <vector>

#include <fairlead/config.hpp>

#include "session/router.hpp"
#include "upstream/cluster.hpp"

namespace fairlead::session {

struct RuntimeSnapshot {
  std::shared_ptr<const Config> config;
  // One per listener, config order; shared by the snapshots of one config, which differ only in
  // their clusters' health.
  std::shared_ptr<const std::vector<Router>> routers;
  std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters;  // config order

  static std::shared_ptr<const RuntimeSnapshot> build(
      std::shared_ptr<const Config> config,
      std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters);
  // The same config and routes with the clusters as they are now.
  std::shared_ptr<const RuntimeSnapshot> withClusters(
      std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> now) const;
};

}  // namespace fairlead::session

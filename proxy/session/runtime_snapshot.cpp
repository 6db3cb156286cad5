#include "session/runtime_snapshot.hpp"

namespace fairlead::session {

std::shared_ptr<const RuntimeSnapshot> RuntimeSnapshot::build(
    std::shared_ptr<const Config> config, std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters) {
  auto routers = std::make_shared<std::vector<Router>>();
  for (const ListenerConfig& l : config->listeners) routers->emplace_back(l.routes, config->clusters);
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  snapshot->routers = std::move(routers);
  snapshot->config = std::move(config);
  snapshot->clusters = std::move(clusters);
  return snapshot;
}

std::shared_ptr<const RuntimeSnapshot> RuntimeSnapshot::withClusters(
    std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> now) const {
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  snapshot->config = config;
  snapshot->routers = routers;
  snapshot->clusters = std::move(now);
  return snapshot;
}

}  // namespace fairlead::session

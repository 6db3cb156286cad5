#include "session/runtime_snapshot.hpp"

namespace fairlead::session {

std::shared_ptr<const RuntimeSnapshot> RuntimeSnapshot::build(
    std::shared_ptr<const Config> config, std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters,
    std::vector<std::uint16_t> listener_ids, std::size_t workers, const RuntimeSnapshot* previous) {
  auto routers = std::make_shared<std::vector<Router>>();
  for (const ListenerConfig& l : config->listeners) routers->emplace_back(l.routes, config->clusters);
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  for (const ListenerConfig& l : config->listeners) {
    std::shared_ptr<ListenerBlocks> counts;
    for (std::size_t i = 0; previous != nullptr && i < previous->config->listeners.size(); ++i) {
      if (previous->config->listeners[i].name == l.name) counts = previous->listener_counters[i];
    }
    snapshot->listener_counters.push_back(counts ? counts : std::make_shared<ListenerBlocks>(workers));
  }
  snapshot->routers = std::move(routers);
  snapshot->listener_ids = std::move(listener_ids);
  snapshot->config = std::move(config);
  snapshot->clusters = std::move(clusters);
  return snapshot;
}

std::shared_ptr<const RuntimeSnapshot> RuntimeSnapshot::withClusters(
    std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> now) const {
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  snapshot->config = config;
  snapshot->routers = routers;
  snapshot->listener_counters = listener_counters;
  snapshot->listener_ids = listener_ids;
  snapshot->clusters = std::move(now);
  return snapshot;
}

}  // namespace fairlead::session

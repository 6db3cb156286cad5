#include "session/runtime_snapshot.hpp"

namespace fairlead::session {

std::shared_ptr<const RuntimeSnapshot> RuntimeSnapshot::build(
    std::shared_ptr<const Config> config, std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters) {
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  for (const ListenerConfig& l : config->listeners) snapshot->routers.emplace_back(l.routes, config->clusters);
  snapshot->config = std::move(config);
  snapshot->clusters = std::move(clusters);
  return snapshot;
}

}  // namespace fairlead::session

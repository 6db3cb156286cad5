#include "session/runtime_snapshot.hpp"

#include <fmt/format.h>

namespace fairlead::session {

std::shared_ptr<const RuntimeSnapshot> RuntimeSnapshot::build(
    std::shared_ptr<const Config> config, std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters,
    std::vector<std::uint16_t> listener_ids, std::vector<std::shared_ptr<const net::TlsServerContext>> listener_tls,
    std::size_t workers, const RuntimeSnapshot* previous) {
  auto routers = std::make_shared<std::vector<Router>>();
  for (const ListenerConfig& l : config->listeners) routers->emplace_back(l.routes, config->clusters, l.redirect_to_https);
  auto snapshot = std::make_shared<RuntimeSnapshot>();
  for (const ListenerConfig& l : config->listeners) {
    std::shared_ptr<ListenerBlocks> counts;
    for (std::size_t i = 0; previous != nullptr && i < previous->config->listeners.size(); ++i) {
      if (previous->config->listeners[i].name == l.name) counts = previous->listener_counters[i];
    }
    snapshot->listener_counters.push_back(counts ? counts : std::make_shared<ListenerBlocks>(workers));
  }
  for (const ListenerConfig& l : config->listeners) {
    const bool hsts = l.tls && l.tls->hsts.count() > 0;
    snapshot->listener_hsts.push_back(
        hsts ? fmt::format("max-age={}", std::chrono::duration_cast<std::chrono::seconds>(l.tls->hsts).count())
             : std::string());
  }
  listener_tls.resize(config->listeners.size());
  snapshot->routers = std::move(routers);
  snapshot->listener_ids = std::move(listener_ids);
  snapshot->listener_tls = std::move(listener_tls);
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
  snapshot->listener_tls = listener_tls;
  snapshot->listener_hsts = listener_hsts;
  snapshot->clusters = std::move(now);
  return snapshot;
}

}  // namespace fairlead::session

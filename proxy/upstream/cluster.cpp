#include "upstream/cluster.hpp"

#include "net/address.hpp"

namespace fairlead::upstream {

std::uint32_t EndpointIds::forAddress(const std::string& authority) {
  return endpoints_.try_emplace(authority, static_cast<std::uint32_t>(endpoints_.size())).first->second;
}

std::uint32_t EndpointIds::forCluster(const std::string& name) {
  return clusters_.try_emplace(name, static_cast<std::uint32_t>(clusters_.size())).first->second;
}

Result<std::shared_ptr<const ClusterSnapshot>> ClusterSnapshot::build(const ClusterConfig& config, EndpointIds& ids) {
  auto snapshot = std::make_shared<ClusterSnapshot>();
  snapshot->config = config;
  snapshot->id = ids.forCluster(config.name);
  for (const auto& ep : config.endpoints) {
    auto addr = net::resolveBlocking(ep.address);
    if (!addr) {
      return fail(Errc::ConfigInvalid,
                  "cluster " + config.name + ": endpoint " + ep.address.toString() + ": " +
                      addr.error().detail);
    }
    const std::string authority = ep.address.toString();
    snapshot->endpoints.push_back(Endpoint{ep.address, *addr, authority, ep.weight, ids.forAddress(authority)});
  }
  return std::shared_ptr<const ClusterSnapshot>(std::move(snapshot));
}

}  // namespace fairlead::upstream

#include "upstream/cluster.hpp"

#include "net/address.hpp"

namespace fairlead::upstream {

Result<std::shared_ptr<const ClusterSnapshot>> ClusterSnapshot::build(const ClusterConfig& config) {
  auto snapshot = std::make_shared<ClusterSnapshot>();
  snapshot->config = config;
  for (const auto& ep : config.endpoints) {
    auto addr = net::resolveBlocking(ep.address);
    if (!addr) {
      return fail(Errc::ConfigInvalid,
                  "cluster " + config.name + ": endpoint " + ep.address.toString() + ": " +
                      addr.error().detail);
    }
    snapshot->endpoints.push_back(Endpoint{ep.address, *addr, ep.address.toString(), ep.weight});
  }
  return std::shared_ptr<const ClusterSnapshot>(std::move(snapshot));
}

}  // namespace fairlead::upstream

#include "upstream/cluster.hpp"

namespace fairlead::upstream {

std::uint32_t EndpointIds::forAddress(const std::string& peer) {
  return endpoints_.try_emplace(peer, static_cast<std::uint32_t>(endpoints_.size())).first->second;
}

std::uint32_t EndpointIds::forCluster(const std::string& name) {
  return clusters_.try_emplace(name, static_cast<std::uint32_t>(clusters_.size())).first->second;
}

}  // namespace fairlead::upstream

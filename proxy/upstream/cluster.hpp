// ClusterSnapshot: one cluster's endpoints and settings, resolved once on the control thread and
// shared read-only by every worker (std::shared_ptr<const ClusterSnapshot>). A request keeps the
// snapshot it started with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>

namespace fairlead::upstream {

struct Endpoint {
  HostPort address;
  sockaddr_storage sockaddr{};
  std::string authority;  // "host:port", the Host for requests that carry none
  std::uint32_t weight = 1;
  // The same for every snapshot that names this address: a worker's pool of connections to it
  // is found by this id, and survives a change of the clusters around it.
  std::uint32_t id = 0;
};

// Hands out the ids: one per distinct endpoint address (and per cluster name), kept for the life
// of the Proxy. Control thread only.
class EndpointIds {
 public:
  std::uint32_t forAddress(const std::string& authority);
  std::uint32_t forCluster(const std::string& name);

 private:
  std::map<std::string, std::uint32_t, std::less<>> endpoints_;
  std::map<std::string, std::uint32_t, std::less<>> clusters_;
};

struct ClusterSnapshot {
  ClusterConfig config;
  std::vector<Endpoint> endpoints;
  std::uint32_t id = 0;  // by name, as endpoints are by address: for per-worker balancer state

  // Resolves every endpoint (names with a blocking lookup: control thread, start-up only).
  static Result<std::shared_ptr<const ClusterSnapshot>> build(const ClusterConfig& config, EndpointIds& ids);
};

}  // namespace fairlead::upstream

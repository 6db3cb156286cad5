// ClusterSnapshot: one cluster's endpoints and settings, resolved once on the control thread and
// shared read-only by every worker (std::shared_ptr<const ClusterSnapshot>). A request keeps the
// snapshot it started with.
#pragma once

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
};

struct ClusterSnapshot {
  ClusterConfig config;
  std::vector<Endpoint> endpoints;

  // Resolves every endpoint (names with a blocking lookup: control thread, start-up only).
  static Result<std::shared_ptr<const ClusterSnapshot>> build(const ClusterConfig& config);
};

}  // namespace fairlead::upstream

// ClusterSnapshot: one cluster's endpoints, their health as pick weights, and its settings; built
// on the control thread by the cluster's monitor and shared read-only by every worker
// (std::shared_ptr<const ClusterSnapshot>). A health change, a DNS refresh or a reload makes a new
// one; a request keeps the snapshot it started with.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <sys/socket.h>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>

#include "core/latency_histogram.hpp"
#include "net/tls_context.hpp"
#include "upstream/admission.hpp"
#include "upstream/shared_endpoint.hpp"

namespace fairlead::upstream {

struct Endpoint {
  HostPort address;  // as configured: a name or an IP literal
  sockaddr_storage sockaddr{};
  std::string authority;  // "host:port" as configured: the Host for requests that carry none
  std::string peer;       // "ip:port" as resolved: for logs, and what identifies the endpoint
  std::uint32_t weight = 1;
  // What the balancers use: weight × kWeightScale, less while slow start ramps it up; 0 while it
  // must take no new request (unhealthy, ejected, draining).
  std::uint32_t pick_weight = 0;
  // The same for every snapshot that names this address: a worker's pool of connections to it is
  // found by this id, and survives a change of the clusters around it.
  std::uint32_t id = 0;
  std::shared_ptr<SharedEndpoint> shared;
  // TLS toward it (clusters[].tls): the context, and the name sent as SNI and verified. Null: plain.
  std::shared_ptr<const net::TlsClientContext> tls;
  std::string tls_name;
};

// Hands out the ids: one per distinct peer address (and per cluster name), kept for the life of
// the Proxy, and the snapshot versions, unique among all clusters' snapshots. Control thread only.
class EndpointIds {
 public:
  std::uint32_t forAddress(const std::string& peer);
  std::uint32_t forCluster(const std::string& name);
  std::uint64_t nextVersion() noexcept { return ++versions_; }
  // Tells apart the SharedEndpoints made for one address over time (it left the cluster and came
  // back): a worker's report about the old one must not eject the new one.
  std::uint64_t nextSerial() noexcept { return ++serials_; }

 private:
  std::uint64_t versions_ = 0;
  std::uint64_t serials_ = 0;
  std::map<std::string, std::uint32_t, std::less<>> endpoints_;
  std::map<std::string, std::uint32_t, std::less<>> clusters_;
};

struct ClusterSnapshot {
  ClusterConfig config;
  std::vector<Endpoint> endpoints;
  std::uint32_t id = 0;  // by name, as endpoints are by address: for per-worker balancer state
  std::uint64_t version = 0;  // new for every snapshot of the cluster: workers rebuild what they built from it
  // Too few endpoints healthy (panic_threshold): the pick weights already ignore health; said
  // here for the logs and counters.
  bool panic = false;
  std::shared_ptr<Admission> admission;  // null without max_requests_per_endpoint
  // Per worker: first attempt to response head. Made by the monitor, the same in every snapshot.
  std::shared_ptr<core::LatencyBlocks> upstream_latency;

  // Whether an endpoint may get a request at all: pick_weight > 0, or everything (not draining)
  // in panic, which the monitor already wrote into the weights.
  bool takesRequests(std::size_t i) const noexcept { return endpoints[i].pick_weight > 0; }
};

}  // namespace fairlead::upstream

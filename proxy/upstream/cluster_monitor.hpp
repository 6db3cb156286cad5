// ClusterMonitor: everything the control thread knows about one cluster's endpoints, and the
// snapshots it publishes from it. It resolves endpoint names (at start, then every dns_refresh,
// on libuv's threadpool), runs the active health checks, ejects an endpoint that workers saw fail
// too often in a row (outlier_detection), ramps recovered and new endpoints up (slow_start), takes
// drained endpoints out, and goes into panic mode when too few are healthy. Each change becomes a
// new immutable ClusterSnapshot whose pick weights say it all; on_change then hands it on to the
// workers. Control loop only.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include <fairlead/stats.hpp>

#include "net/loop.hpp"
#include "net/heap_timer.hpp"
#include "upstream/cluster.hpp"
#include "upstream/health.hpp"
#include "upstream/health_probe.hpp"

namespace fairlead::upstream {

class ClusterMonitor {
 public:
  using Clock = std::chrono::steady_clock;
  using OnChange = std::function<void()>;

  // Resolves the endpoints (blocking: start-up) and starts checks and refreshes.
  // previous: the monitor of the same cluster before a reload changed its config; endpoints at
  // an address it had start with its health, ejection and drain state instead of from nothing.
  static Result<std::unique_ptr<ClusterMonitor>> create(net::Loop& control, const ClusterConfig& config,
                                                        EndpointIds& ids, std::size_t workers,
                                                        std::shared_ptr<spdlog::logger> log, OnChange on_change,
                                                        const ClusterMonitor* previous = nullptr);
  const ClusterConfig& config() const noexcept { return config_; }
  ~ClusterMonitor();
  ClusterMonitor(const ClusterMonitor&) = delete;
  ClusterMonitor& operator=(const ClusterMonitor&) = delete;

  const std::shared_ptr<const ClusterSnapshot>& current() const noexcept { return current_; }
  // Takes an endpoint ("ip:port", or "host:port" as configured: all its addresses) out gently: no
  // new requests, those in flight finish. False if the cluster has no such endpoint.
  bool drain(std::string_view address);
  // For /clusters and /metrics: every endpoint's state and counters, summed over the workers.
  ClusterStats stats() const;
  // Empty when an endpoint is fit for traffic: not draining or ejected, and healthy by the
  // active checks when there are any. Else why not, for /ready.
  std::string notReadyReason() const;
  const std::string& name() const noexcept { return config_.name; }

 private:
  struct Member {
    std::size_t config_index = 0;
    Endpoint endpoint;  // pick_weight is the snapshot's business
    std::uint64_t serial = 0;  // of endpoint.shared (EndpointIds::nextSerial)
    std::optional<HealthMachine> health;  // with active checks
    std::unique_ptr<HealthProbe> probe;
    bool ejected = false;
    Clock::time_point ejected_until{};
    Clock::time_point returned_at{};  // from the last ejection
    std::uint32_t ejections = 0;       // recent ones, decaying: how long the next one lasts
    std::uint32_t ejections_total = 0;
    bool draining = false;
    std::optional<Clock::time_point> ramp_since;  // slow start running
    std::uint64_t transitions = 0;
    std::string last_transition;
    std::uint64_t checks_passed = 0;
    std::uint64_t checks_failed = 0;
  };

  ClusterMonitor(net::Loop& control, const ClusterConfig& config, EndpointIds& ids, std::size_t workers,
                 std::shared_ptr<spdlog::logger> log, OnChange on_change);
  Result<> start(const ClusterMonitor* previous);
  void carryOver(const ClusterMonitor& previous);
  // The members for one configured endpoint are now these addresses: new ones join (ramping up
  // unless this is start-up), gone ones leave, the others keep their state.
  void setAddresses(std::size_t config_index, const std::vector<sockaddr_storage>& addresses, bool initial);
  std::unique_ptr<Member> makeMember(std::size_t config_index, const sockaddr_storage& addr);
  void onCheckResult(Member& m, bool passed, const std::string& reason);
  void onFailuresTripped(std::uint64_t serial);
  void transition(Member& m, std::string what);
  bool available(const Member& m) const noexcept;
  // A new snapshot from the members' state, published when it differs from the current one.
  void rebuild();
  void armTick();
  void onTick();
  static void onTickTimer(void* self) noexcept;
  void refreshDns();
  static void onDnsTimer(void* self) noexcept;
  void onResolved(const uv_getaddrinfo_t* req, std::size_t config_index, int status, const addrinfo* found);

  net::Loop& control_;
  ClusterConfig config_;
  EndpointIds& ids_;
  std::size_t workers_;
  std::shared_ptr<spdlog::logger> log_;
  OnChange on_change_;
  std::uint32_t cluster_id_;
  std::shared_ptr<Admission> admission_;
  std::shared_ptr<core::LatencyBlocks> upstream_latency_;
  std::shared_ptr<const net::TlsClientContext> tls_;  // clusters[].tls, read once per monitor
  bool panic_announced_ = false;  // its warning was logged, so its end will be
  std::vector<std::unique_ptr<Member>> members_;  // configured order, then the resolver's
  std::shared_ptr<const ClusterSnapshot> current_;
  // Ejection ends and slow-start steps: one timer for the cluster, at the nearest of them.
  net::HeapTimer tick_;
  net::HeapTimer dns_timer_;
  std::vector<uv_getaddrinfo_t*> lookups_;  // pending; cancelled when we go
  // Posts from workers and resolver callbacks find out through this whether we still exist.
  std::shared_ptr<ClusterMonitor*> self_;
};

}  // namespace fairlead::upstream

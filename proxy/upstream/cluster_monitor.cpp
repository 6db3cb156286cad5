#include "upstream/cluster_monitor.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/random.hpp"
#include "net/address.hpp"

namespace fairlead::upstream {
namespace {

using std::chrono::milliseconds;

milliseconds millisUntil(ClusterMonitor::Clock::time_point t, ClusterMonitor::Clock::time_point now) {
  return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(t - now));
}

// A slow-start ramp is republished in twenty steps, no more often than every 100 ms.
milliseconds rampStep(milliseconds window) { return std::max(milliseconds(100), window / 20); }

struct Lookup {
  std::weak_ptr<ClusterMonitor*> monitor;
  std::size_t config_index = 0;
};

}  // namespace

ClusterMonitor::ClusterMonitor(net::Loop& control, const ClusterConfig& config, EndpointIds& ids,
                               std::size_t workers, std::shared_ptr<spdlog::logger> log, OnChange on_change)
    : control_(control),
      config_(config),
      ids_(ids),
      workers_(workers),
      log_(std::move(log)),
      on_change_(std::move(on_change)),
      cluster_id_(ids.forCluster(config.name)),
      tick_(control.raw(), this, &ClusterMonitor::onTickTimer),
      dns_timer_(control.raw(), this, &ClusterMonitor::onDnsTimer),
      self_(std::make_shared<ClusterMonitor*>(this)) {
  upstream_latency_ = std::make_shared<core::LatencyBlocks>(workers);
  if (config.max_requests_per_endpoint != 0) {
    const QueueConfig queue = config.queue.value_or(QueueConfig{});
    admission_ = std::make_shared<Admission>(config.max_requests_per_endpoint, queue.max);
  }
}

ClusterMonitor::~ClusterMonitor() {
  self_.reset();
  tick_.close();
  dns_timer_.close();
  // A lookup already running on the thread pool cannot be cancelled; its callback finds us gone.
  for (uv_getaddrinfo_t* req : lookups_) uv_cancel(reinterpret_cast<uv_req_t*>(req));
}

Result<std::unique_ptr<ClusterMonitor>> ClusterMonitor::create(net::Loop& control, const ClusterConfig& config,
                                                               EndpointIds& ids, std::size_t workers,
                                                               std::shared_ptr<spdlog::logger> log,
                                                               OnChange on_change, const ClusterMonitor* previous) {
  std::unique_ptr<ClusterMonitor> monitor(
      new ClusterMonitor(control, config, ids, workers, std::move(log), std::move(on_change)));
  if (auto started = monitor->start(previous); !started) return tl::unexpected(started.error());
  return monitor;
}

Result<> ClusterMonitor::start(const ClusterMonitor* previous) {
  if (config_.tls.enabled) {
    auto tls = net::TlsClientContext::create(config_.tls);
    if (!tls) return fail(Errc::ConfigInvalid, "cluster " + config_.name + ": " + tls.error().detail);
    tls_ = std::move(*tls);
  }
  bool any_name = false;
  for (std::size_t i = 0; i < config_.endpoints.size(); ++i) {
    const HostPort& address = config_.endpoints[i].address;
    auto resolved = net::resolveAllBlocking(address);
    if (!resolved) {
      return fail(Errc::ConfigInvalid,
                  "cluster " + config_.name + ": endpoint " + address.toString() + ": " + resolved.error().detail);
    }
    any_name = any_name || !net::toSockaddr(address);
    setAddresses(i, *resolved, true);
  }
  if (any_name) dns_timer_.start(config_.dns_refresh, config_.dns_refresh);
  if (previous != nullptr) carryOver(*previous);
  rebuild();
  return {};
}

void ClusterMonitor::carryOver(const ClusterMonitor& previous) {
  // The latency histogram is the cluster's, not its settings': it goes on counting.
  upstream_latency_ = previous.upstream_latency_;
  panic_announced_ = previous.panic_announced_;
  for (auto& m : members_) {
    const auto was = std::find_if(previous.members_.begin(), previous.members_.end(),
                                  [&](const auto& p) { return p->endpoint.peer == m->endpoint.peer; });
    if (was == previous.members_.end()) continue;
    const Member& old = **was;
    if (m->health && old.health) m->health->seed(old.health->health());
    m->ejected = old.ejected;
    m->ejected_until = old.ejected_until;
    m->returned_at = old.returned_at;
    m->ejections = old.ejections;
    m->ejections_total = old.ejections_total;
    m->draining = old.draining;
    m->ramp_since = old.ramp_since;
    m->transitions = old.transitions;
    m->last_transition = old.last_transition;
    m->checks_passed = old.checks_passed;
    m->checks_failed = old.checks_failed;
  }
}

std::unique_ptr<ClusterMonitor::Member> ClusterMonitor::makeMember(std::size_t config_index,
                                                                   const sockaddr_storage& addr) {
  const EndpointConfig& ec = config_.endpoints[config_index];
  auto m = std::make_unique<Member>();
  m->config_index = config_index;
  Endpoint& e = m->endpoint;
  e.address = ec.address;
  e.sockaddr = addr;
  e.authority = ec.address.toString();
  e.peer = net::peerText(addr);
  e.weight = ec.weight;
  if (tls_) {
    e.tls = tls_;
    e.tls_name = config_.tls.sni.empty() ? ec.address.host : config_.tls.sni;
  }
  // TLS to an address is another pool (and another health) than plain to the same address, and
  // than TLS checked otherwise: a pooled connection was verified under the settings of its pool.
  e.id = ids_.forAddress(tls_ ? fmt::format("tls:{}:{}:{}@{}", e.tls_name, config_.tls.verify ? "verify" : "noverify",
                                            config_.tls.ca, e.peer)
                              : e.peer);
  m->serial = ids_.nextSerial();
  // Workers count failures in a row; the one that completes a run asks us to eject.
  e.shared = std::make_shared<SharedEndpoint>(
      workers_, config_.outlier_detection.consecutive_failures,
      [&control = control_, monitor = std::weak_ptr<ClusterMonitor*>(self_), serial = m->serial] {
        control.post([monitor, serial] {
          if (auto self = monitor.lock()) (*self)->onFailuresTripped(serial);
        });
      });
  if (config_.health_check) {
    const HealthCheckConfig& hc = *config_.health_check;
    m->health.emplace(hc.healthy_threshold, hc.unhealthy_threshold);
    Member* raw = m.get();
    const std::uint64_t seed = core::mix64(static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()) ^ e.id);
    m->probe = std::make_unique<HealthProbe>(control_, e, hc, seed, [this, raw](bool passed, std::string reason) {
      onCheckResult(*raw, passed, reason);
    });
  }
  return m;
}

void ClusterMonitor::setAddresses(std::size_t config_index, const std::vector<sockaddr_storage>& addresses,
                                  bool initial) {
  std::vector<std::unique_ptr<Member>> next;
  std::vector<std::unique_ptr<Member>> old = std::move(members_);
  auto take = [&](auto pred) {
    for (auto& m : old) {
      if (m && pred(*m)) next.push_back(std::move(m));
    }
  };
  take([&](const Member& m) { return m.config_index < config_index; });
  for (const sockaddr_storage& addr : addresses) {
    const std::string peer = net::peerText(addr);
    auto same = std::find_if(old.begin(), old.end(), [&](const std::unique_ptr<Member>& m) {
      return m && m->config_index == config_index && m->endpoint.peer == peer;
    });
    if (same != old.end()) {
      next.push_back(std::move(*same));
      continue;
    }
    next.push_back(makeMember(config_index, addr));
    if (!initial) {
      Member& joined = *next.back();
      if (config_.slow_start.count() > 0) joined.ramp_since = Clock::now();
      log_->info("cluster {}: endpoint {} ({}) joined", config_.name, joined.endpoint.peer, joined.endpoint.authority);
    }
  }
  take([&](const Member& m) { return m.config_index > config_index; });
  for (const auto& m : old) {
    if (!m || m->config_index != config_index) continue;
    // Requests in flight keep the snapshot that has it and finish; no new one is sent to it.
    log_->info("cluster {}: endpoint {} ({}) left: no longer resolved", config_.name, m->endpoint.peer,
               m->endpoint.authority);
  }
  members_ = std::move(next);
}

void ClusterMonitor::transition(Member& m, std::string what) {
  ++m.transitions;
  m.last_transition = std::move(what);
}

void ClusterMonitor::onCheckResult(Member& m, bool passed, const std::string& reason) {
  ++(passed ? m.checks_passed : m.checks_failed);
  const Health before = m.health->health();
  if (!m.health->record(passed)) return;
  const Health now = m.health->health();
  if (now == Health::Healthy) {
    transition(m, "healthy");
    log_->info("cluster {}: endpoint {} healthy", config_.name, m.endpoint.peer);
    if (before == Health::Unhealthy && config_.slow_start.count() > 0) m.ramp_since = Clock::now();
    // A passing active check ends an ejection: the app says it is back.
    if (m.ejected) {
      m.ejected = false;
      m.returned_at = Clock::now();
      m.endpoint.shared->resetFailures();
    }
  } else {
    transition(m, "unhealthy: " + reason);
    log_->warn("cluster {}: endpoint {} unhealthy: {}", config_.name, m.endpoint.peer, reason);
  }
  rebuild();
}

void ClusterMonitor::onFailuresTripped(std::uint64_t serial) {
  auto it = std::find_if(members_.begin(), members_.end(),
                         [&](const std::unique_ptr<Member>& m) { return m->serial == serial; });
  if (it == members_.end() || (*it)->ejected || (*it)->draining) return;
  Member& m = **it;
  const std::string& peer = m.endpoint.peer;
  const OutlierConfig& od = config_.outlier_detection;
  const auto ejected = static_cast<std::size_t>(
      std::count_if(members_.begin(), members_.end(), [](const std::unique_ptr<Member>& x) { return x->ejected; }));
  // The next run of failures may trip again, whatever we decide now.
  m.endpoint.shared->resetFailures();
  if (!mayEject(ejected, members_.size(), od.max_ejection_percent)) {
    log_->warn("cluster {}: endpoint {} failed {} times in a row; not ejected: max_ejection_percent {}% reached",
               config_.name, peer, od.consecutive_failures, od.max_ejection_percent);
    return;
  }
  const auto now = Clock::now();
  const auto back_for = m.ejections_total == 0 ? milliseconds(0)
                                                : std::chrono::duration_cast<milliseconds>(now - m.returned_at);
  m.ejections = decayedEjections(m.ejections, back_for, od.ejection_time) + 1;
  const milliseconds duration = ejectionDuration(od.ejection_time, m.ejections);
  m.ejected = true;
  m.ejected_until = now + duration;
  ++m.ejections_total;
  transition(m, fmt::format("ejected for {} ms after {} failures in a row", duration.count(), od.consecutive_failures));
  log_->warn("cluster {}: endpoint {} ejected for {} ms after {} failures in a row", config_.name, peer,
             duration.count(), od.consecutive_failures);
  rebuild();
}

bool ClusterMonitor::available(const Member& m) const noexcept {
  return !m.draining && !m.ejected && (!m.health || m.health->health() == Health::Healthy);
}

void ClusterMonitor::rebuild() {
  const auto now = Clock::now();
  std::size_t healthy = 0;
  std::size_t eligible = 0;
  for (const auto& m : members_) {
    if (m->draining) continue;
    ++eligible;
    if (available(*m)) ++healthy;
  }
  auto next = std::make_shared<ClusterSnapshot>();
  next->config = config_;
  next->id = cluster_id_;
  next->admission = admission_;
  next->upstream_latency = upstream_latency_;
  next->panic = eligible > 0 && inPanic(healthy, eligible, config_.panic_threshold_percent);
  for (auto& m : members_) {
    Endpoint e = m->endpoint;
    const bool takes = !m->draining && (next->panic || available(*m));
    // A ramp is for an endpoint taking its share on its merits; one that stops ramps afresh on return.
    if (!takes || next->panic) m->ramp_since.reset();
    e.pick_weight = takes ? e.weight * kWeightScale : 0;
    if (m->ramp_since) {
      const auto since = std::chrono::duration_cast<milliseconds>(now - *m->ramp_since);
      e.pick_weight = rampedWeight(e.weight, since, config_.slow_start);
      if (since >= config_.slow_start) m->ramp_since.reset();
    }
    next->endpoints.push_back(std::move(e));
  }
  armTick();
  // Panic is news once something is known: at start-up every endpoint is unknown, which counts as
  // panic without being one. Said whether or not the weights change (one endpoint stays in).
  const bool known = std::any_of(members_.begin(), members_.end(), [](const auto& m) {
    return m->ejected || (m->health && m->health->health() != Health::Unknown);
  });
  if (next->panic && !panic_announced_ && known) {
    panic_announced_ = true;
    log_->warn("cluster {}: {} of {} endpoints healthy, below panic_threshold {}%: sending to all of them",
               config_.name, healthy, eligible, config_.panic_threshold_percent);
  } else if (!next->panic && panic_announced_) {
    panic_announced_ = false;
    log_->info("cluster {}: {} of {} endpoints healthy: panic mode over", config_.name, healthy, eligible);
  }
  if (current_) {
    const auto& was = current_->endpoints;
    const auto alike = [](const Endpoint& a, const Endpoint& b) {
      return a.peer == b.peer && a.pick_weight == b.pick_weight && a.shared == b.shared;
    };
    const bool same = next->panic == current_->panic && was.size() == next->endpoints.size() &&
                      std::equal(was.begin(), was.end(), next->endpoints.begin(), alike);
    if (same) return;
  }
  // At start-up, before the first checks, an empty set only means "not known yet".
  const auto takes = [](const Endpoint& e) { return e.pick_weight > 0; };
  if (current_ && std::none_of(next->endpoints.begin(), next->endpoints.end(), takes)) {
    log_->warn("cluster {}: no endpoint takes requests: they are answered 503", config_.name);
  }
  next->version = ids_.nextVersion();
  const bool first = !current_;
  current_ = std::move(next);
  if (admission_) admission_->update(current_);
  if (!first) on_change_();
}

void ClusterMonitor::armTick() {
  const auto now = Clock::now();
  std::optional<Clock::time_point> due;
  for (const auto& m : members_) {
    std::optional<Clock::time_point> mine;
    if (m->ejected) mine = m->ejected_until;
    if (m->ramp_since) mine = std::min(mine.value_or(Clock::time_point::max()), now + rampStep(config_.slow_start));
    if (mine && (!due || *mine < *due)) due = mine;
  }
  if (due) {
    tick_.start(millisUntil(*due, now));
  } else {
    tick_.stop();
  }
}

void ClusterMonitor::onTickTimer(void* self) noexcept { static_cast<ClusterMonitor*>(self)->onTick(); }

void ClusterMonitor::onDnsTimer(void* self) noexcept { static_cast<ClusterMonitor*>(self)->refreshDns(); }

void ClusterMonitor::onTick() {
  const auto now = Clock::now();
  for (auto& m : members_) {
    if (!m->ejected || m->ejected_until > now) continue;
    m->ejected = false;
    m->returned_at = now;
    m->endpoint.shared->resetFailures();
    if (config_.slow_start.count() > 0) m->ramp_since = now;
    transition(*m, "back from ejection");
    log_->info("cluster {}: endpoint {} back from ejection", config_.name, m->endpoint.peer);
  }
  rebuild();
}

void ClusterMonitor::refreshDns() {
  if (!lookups_.empty()) return;  // the last round has not answered yet
  for (std::size_t i = 0; i < config_.endpoints.size(); ++i) {
    const HostPort& address = config_.endpoints[i].address;
    if (net::toSockaddr(address)) continue;
    auto* req = new uv_getaddrinfo_t{};
    req->data = new Lookup{self_, i};
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    const int rc = uv_getaddrinfo(
        control_.raw(), req,
        [](uv_getaddrinfo_t* r, int status, addrinfo* found) {
          std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(r->data));
          std::unique_ptr<uv_getaddrinfo_t> req(r);
          if (auto self = lookup->monitor.lock()) (*self)->onResolved(r, lookup->config_index, status, found);
          uv_freeaddrinfo(found);
        },
        address.host.c_str(), nullptr, &hints);
    if (rc != 0) {
      delete static_cast<Lookup*>(req->data);
      delete req;
      log_->warn("cluster {}: cannot resolve {}: {}", config_.name, address.host, uv_strerror(rc));
      continue;
    }
    lookups_.push_back(req);
  }
}

void ClusterMonitor::onResolved(const uv_getaddrinfo_t* req, std::size_t config_index, int status,
                                const addrinfo* found) {
  lookups_.erase(std::remove(lookups_.begin(), lookups_.end(), req), lookups_.end());
  const HostPort& address = config_.endpoints[config_index].address;
  auto addresses = status == 0 ? net::sameFamilyAddresses(found, address.port) : std::vector<sockaddr_storage>{};
  if (addresses.empty()) {
    // A resolver that fails for a moment must not empty the cluster: keep what we had.
    log_->warn("cluster {}: resolving {} failed ({}); keeping its last addresses", config_.name, address.host,
               status == 0 ? "no address" : uv_strerror(status));
    return;
  }
  setAddresses(config_index, addresses, false);
  rebuild();
}

bool ClusterMonitor::drain(std::string_view address) {
  bool found = false;
  for (auto& m : members_) {
    if (m->endpoint.peer != address && m->endpoint.authority != address) continue;
    found = true;
    if (m->draining) continue;
    m->draining = true;
    transition(*m, "draining");
    log_->info("cluster {}: endpoint {} draining: no new requests", config_.name, m->endpoint.peer);
  }
  if (found) rebuild();
  return found;
}

std::string ClusterMonitor::notReadyReason() const {
  std::string why;
  for (const auto& m : members_) {
    std::string_view state;
    if (m->draining) {
      state = "draining";
    } else if (m->ejected) {
      state = "ejected";
    } else if (!m->health || m->health->health() == Health::Healthy) {
      return {};
    } else {
      state = m->health->health() == Health::Unknown ? "not checked yet" : std::string_view(m->last_transition);
    }
    why += fmt::format("{}{} {}", why.empty() ? "" : "; ", m->endpoint.peer, state);
  }
  return fmt::format("cluster {} has no healthy endpoint ({})", config_.name, why.empty() ? "no endpoints" : why);
}

ClusterStats ClusterMonitor::stats() const {
  ClusterStats out;
  out.name = config_.name;
  out.panic = current_->panic;
  if (admission_) {
    out.queued = admission_->queued();
    out.queue_waits_total = admission_->waitsTotal();
    out.queue_wait_ms_total = admission_->waitMillisTotal();
    out.queue_overflows_total = admission_->overflowsTotal();
  }
  for (const core::LatencyCounts& block : *upstream_latency_) core::addTo(block, out.upstream_response);
  for (std::size_t i = 0; i < members_.size(); ++i) {
    const Member& m = *members_[i];
    EndpointStats s;
    s.address = m.endpoint.peer;
    s.authority = m.endpoint.authority;
    s.weight = m.endpoint.weight;
    s.pick_weight = i < current_->endpoints.size() ? current_->endpoints[i].pick_weight : 0;
    s.health = toString(m.health ? m.health->health() : Health::Unknown);
    s.ejected = m.ejected;
    s.draining = m.draining;
    s.ejections_total = m.ejections_total;
    s.health_transitions_total = m.transitions;
    s.last_transition = m.last_transition;
    s.checks_passed_total = m.checks_passed;
    s.checks_failed_total = m.checks_failed;
    std::uint64_t failures[kFailureKinds] = {};
    SharedEndpoint& shared = *m.endpoint.shared;
    for (std::size_t w = 0; w < shared.workers(); ++w) {
      const EndpointCounters& c = shared.counters(w);
      s.active_requests += c.active.load(std::memory_order_relaxed);
      for (std::size_t k = 0; k < 6; ++k) {
        s.responses_by_class[k] += c.responses_by_class[k].load(std::memory_order_relaxed);
      }
      for (std::size_t k = 0; k < kFailureKinds; ++k) failures[k] += c.failures[k].load(std::memory_order_relaxed);
    }
    s.failures_connect = failures[static_cast<std::size_t>(FailureKind::Connect)];
    s.failures_reset = failures[static_cast<std::size_t>(FailureKind::Reset)];
    s.failures_timeout = failures[static_cast<std::size_t>(FailureKind::Timeout)];
    s.failures_server_error = failures[static_cast<std::size_t>(FailureKind::ServerError)];
    out.endpoints.push_back(std::move(s));
  }
  return out;
}

}  // namespace fairlead::upstream

#include <fairlead/proxy.hpp>

#include <algorithm>
#include <optional>
#include <thread>

#include <netinet/in.h>
#include <unistd.h>

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "api/worker.hpp"
#include "core/units.hpp"
#include "net/heap_timer.hpp"
#include "upstream/cluster_monitor.hpp"
#include "net/address.hpp"

namespace fairlead {

struct Proxy::Impl {
  uv_loop_t* loop = nullptr;
  std::unique_ptr<net::Loop> control;
  std::shared_ptr<const Config> config;
  std::shared_ptr<const session::RuntimeSnapshot> runtime;
  upstream::EndpointIds endpoint_ids;  // kept, so that a later snapshot names endpoints alike
  std::vector<std::unique_ptr<upstream::ClusterMonitor>> monitors;  // config order
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<spdlog::logger> access;
  // Declared after the logger so it is destroyed first: its thread is joined while the logger is
  // still alive, so the last queued lines (and their references to the logger) are dealt with on
  // that thread before this one lets the logger go.
  std::shared_ptr<spdlog::details::thread_pool> access_pool;
  std::vector<std::unique_ptr<session::Counters>> counters;
  std::vector<std::unique_ptr<api::Worker>> workers;
  std::vector<std::uint16_t> ports;
  std::function<void()> on_drained;
  std::function<void()> on_stopped;
  // Workers yet to report, one count per operation: a stop can start while the drain's reports
  // are still arriving (a worker finishes its drain as the stop closes its last connection), and
  // those must not count as stop reports.
  std::size_t drain_waiting = 0;
  std::size_t stop_waiting = 0;
  bool draining = false;
  bool stopping = false;
  // drain.delay, then drain.timeout, one after the other; made by create() once the loop is known.
  std::optional<net::HeapTimer> drain_timer;
  bool listeners_closed = false;

  static void onDrainTimer(void* self) noexcept { static_cast<Impl*>(self)->drainPhaseOver(); }

  void drainPhaseOver() {
    if (!listeners_closed) {
      closeListenersAndDrain();
      return;
    }
    log->warn("draining: drain.timeout ({}) is over with requests still in flight; closing their connections",
              core::formatDuration(config->drain.timeout));
    for (auto& w : workers) w->closeSessions();
  }

  void closeListenersAndDrain() {
    listeners_closed = true;
    drain_waiting = workers.size();
    log->info("draining: listeners closed, waiting up to {} for {} worker{}",
              core::formatDuration(config->drain.timeout), drain_waiting, drain_waiting == 1 ? "" : "s");
    drain_timer->start(config->drain.timeout);
    for (auto& w : workers) {
      w->drain([this] {
        control->post([this] {
          if (--drain_waiting != 0 || !on_drained) return;
          drain_timer->close();
          std::exchange(on_drained, nullptr)();
        });
      });
    }
  }

  // A cluster's monitor made a new snapshot: every worker starts new requests with it.
  void publishClusters() {
    if (stopping) return;
    std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> now;
    for (const auto& m : monitors) now.push_back(m->current());
    runtime = runtime->withClusters(std::move(now));
    for (auto& w : workers) w->setRuntime(runtime);
  }
};

namespace {

std::shared_ptr<spdlog::logger> defaultLogger(const Config& config) {
  auto logger = std::make_shared<spdlog::logger>(
      "fairlead", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(spdlog::level::from_str(config.log.level));
  return logger;
}

}  // namespace

Proxy::Proxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Proxy::~Proxy() = default;

Result<std::unique_ptr<Proxy>> Proxy::create(uv_loop_t* loop, Config config, Options options) {
  if (auto valid = validateConfig(config); !valid) return tl::unexpected(valid.error());
  auto impl = std::make_unique<Impl>();
  impl->loop = loop;
  impl->log = options.logger ? options.logger : defaultLogger(config);
  std::shared_ptr<spdlog::logger> access = options.access_logger;
  if (!access && config.log.access != AccessLogFormat::Off) {
    // The access log is written by its own thread: a slow stdout never stalls a worker loop. When
    // its queue is full the oldest lines go, rather than the data plane blocking.
    impl->access_pool = std::make_shared<spdlog::details::thread_pool>(8192, 1);
    access = std::make_shared<spdlog::async_logger>(
        "access", std::make_shared<spdlog::sinks::stdout_sink_mt>(), impl->access_pool,
        spdlog::async_overflow_policy::overrun_oldest);
    access->set_pattern("%v");
  }
  if (config.log.access == AccessLogFormat::Off) access = nullptr;
  impl->access = access;

  const std::size_t workers =
      options.inline_workers ? 1
      : config.workers != 0  ? config.workers
                             : std::max(1u, std::thread::hardware_concurrency());

  impl->control = std::make_unique<net::Loop>(loop);
  impl->drain_timer.emplace(loop, impl.get(), &Impl::onDrainTimer);
  Impl* self = impl.get();
  std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters;
  for (const auto& c : config.clusters) {
    auto monitor = upstream::ClusterMonitor::create(*impl->control, c, impl->endpoint_ids, workers, impl->log,
                                                    [self] { self->publishClusters(); });
    if (!monitor) return tl::unexpected(monitor.error());
    clusters.push_back((*monitor)->current());
    impl->monitors.push_back(std::move(*monitor));
  }

  // Every worker's sockets are bound here, on the caller's thread, so a port in use fails create().
  // Every address is checked first, before any of ours exists: two listeners of one config may
  // overlap (127.0.0.1:8080 and 0.0.0.0:8080) and must not take each other for a stranger.
  for (const auto& l : config.listeners) {
    auto addr = net::toSockaddr(l.address);
    if (!addr) return fail(Errc::ConfigInvalid, "listener " + l.name + ": " + addr.error().detail);
    if (auto free = net::TcpListener::checkAddressFree(*addr); !free) {
      return fail(Errc::ConfigInvalid,
                  "listener " + l.name + " on " + l.address.toString() + ": " + free.error().detail);
    }
  }
  // With port 0 the first bind picks the port and the other workers join it.
  std::vector<std::vector<net::TcpListener::Bound>> sockets(workers);
  for (const auto& l : config.listeners) {
    auto addr = net::toSockaddr(l.address);
    if (!addr) return fail(Errc::ConfigInvalid, "listener " + l.name + ": " + addr.error().detail);
    std::uint16_t port = l.address.port;
    for (std::size_t w = 0; w < workers; ++w) {
      auto bound_addr = *addr;
      if (bound_addr.ss_family == AF_INET) {
        reinterpret_cast<sockaddr_in*>(&bound_addr)->sin_port = htons(port);
      } else {
        reinterpret_cast<sockaddr_in6*>(&bound_addr)->sin6_port = htons(port);
      }
      auto bound = net::TcpListener::openSocket(bound_addr);
      if (!bound) {
        for (auto& per_worker : sockets) {
          for (auto& b : per_worker) ::close(b.fd);
        }
        return fail(Errc::ConfigInvalid, "listener " + l.name + " on " + l.address.toString() +
                                             ": " + bound.error().detail);
      }
      port = bound->port;
      sockets[w].push_back(*bound);
    }
    impl->ports.push_back(port);
  }

  impl->config = std::make_shared<const Config>(std::move(config));
  impl->runtime = session::RuntimeSnapshot::build(impl->config, std::move(clusters));
  const std::uint64_t per_worker_limit =
      (impl->config->limits.max_connections + workers - 1) / workers;
  for (std::size_t w = 0; w < workers; ++w) {
    impl->counters.push_back(std::make_unique<session::Counters>());
    impl->workers.push_back(std::make_unique<api::Worker>(
        w, impl->runtime, std::move(sockets[w]), *impl->counters.back(), impl->log,
        access, per_worker_limit, options.inline_workers ? loop : nullptr));
  }
  for (auto& w : impl->workers) {
    if (auto started = w->start(); !started) return tl::unexpected(started.error());
  }
  for (std::size_t i = 0; i < impl->ports.size(); ++i) {
    impl->log->info("listening on {} (port {}), {} worker{}", impl->config->listeners[i].address.toString(),
                    impl->ports[i], workers, workers == 1 ? "" : "s");
  }
  return std::unique_ptr<Proxy>(new Proxy(std::move(impl)));
}

void Proxy::drain(std::function<void()> on_drained) {
  auto& impl = *impl_;
  if (impl.draining || impl.stopping) return;
  impl.draining = true;
  impl.on_drained = std::move(on_drained);
  const auto delay = impl.config->drain.delay;
  if (delay.count() <= 0) {
    impl.closeListenersAndDrain();
    return;
  }
  // The load balancer still sends traffic until it has seen the target go (deregistration):
  // refusing it now would turn into its 502s.
  impl.log->info("draining: serving for {} more (drain.delay), then closing the listeners", core::formatDuration(delay));
  impl.drain_timer->start(delay);
}

void Proxy::stop(std::function<void()> on_stopped) {
  auto& impl = *impl_;
  if (impl.stopping) return;
  impl.stopping = true;
  impl.drain_timer->close();
  impl.monitors.clear();  // no more checks, and nothing more to publish
  impl.on_drained = nullptr;
  impl.on_stopped = std::move(on_stopped);
  impl.stop_waiting = impl.workers.size();
  for (auto& w : impl.workers) {
    w->stop([this] {
      impl_->control->post([this] {
        if (--impl_->stop_waiting != 0) return;
        for (auto& worker : impl_->workers) worker->join();
        impl_->workers.clear();
        if (impl_->access) impl_->access->flush();
        impl_->control->close();
        if (impl_->on_stopped) std::exchange(impl_->on_stopped, nullptr)();
      });
    });
  }
}

bool Proxy::drainEndpoint(std::string_view cluster, std::string_view address) {
  for (auto& m : impl_->monitors) {
    if (m->name() == cluster) return m->drain(address);
  }
  return false;
}

Stats Proxy::stats() const {
  Stats out;
  for (const auto& c : impl_->counters) c->addTo(out);
  return out;
}

std::vector<ClusterStats> Proxy::clusters() const {
  std::vector<ClusterStats> out;
  for (const auto& m : impl_->monitors) out.push_back(m->stats());
  return out;
}

std::vector<std::uint16_t> Proxy::listenerPorts() const { return impl_->ports; }

}  // namespace fairlead

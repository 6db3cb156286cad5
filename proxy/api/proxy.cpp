#include <fairlead/proxy.hpp>

#include <algorithm>
#include <optional>

#include <netinet/in.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "admin/admin_service.hpp"
#include "api/worker.hpp"
#include "core/cpu_limit.hpp"
#include "core/units.hpp"
#include "net/heap_timer.hpp"
#include "net/tls_context.hpp"
#include "upstream/cluster_monitor.hpp"
#include "net/address.hpp"

namespace fairlead {

struct Proxy::Impl final : admin::AdminBackend {
  uv_loop_t* loop = nullptr;
  Options options;
  std::chrono::system_clock::time_point started = std::chrono::system_clock::now();
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
  std::uint16_t next_listener_id = 0;
  // Shared by every TLS listener and kept across reloads: a ticket from before a reload resumes.
  std::shared_ptr<net::TlsTicketKeys> ticket_keys = std::make_shared<net::TlsTicketKeys>();
  // The admin listener: a worker of its own on the control loop, whose every request the admin
  // service answers. Not drained with the data plane: /ready must say 503 through the drain.
  std::unique_ptr<admin::AdminService> admin_service;
  session::Counters admin_counters;
  std::unique_ptr<api::Worker> admin_worker;
  std::uint16_t admin_port = 0;
  std::uint64_t reloads_ok = 0;
  std::uint64_t reloads_failed = 0;
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
          if (--drain_waiting != 0) return;
          drain_timer->close();
          if (on_drained) std::exchange(on_drained, nullptr)();
        });
      });
    }
  }

  void startDrain(std::function<void()> done) {
    if (draining || stopping) return;
    draining = true;
    on_drained = std::move(done);
    const auto delay = config->drain.delay;
    if (delay.count() <= 0) {
      closeListenersAndDrain();
      return;
    }
    // The load balancer still sends traffic until it has seen the target go (deregistration):
    // refusing it now would turn into its 502s.
    log->info("draining: serving for {} more (drain.delay), then closing the listeners", core::formatDuration(delay));
    drain_timer->start(delay);
  }

  // AdminBackend, on the control loop.
  admin::ProcessState process() const override {
    admin::ProcessState p;
    p.draining = draining;
    p.reloads_ok = reloads_ok;
    p.reloads_failed = reloads_failed;
    p.started = started;
    p.version = FAIRLEAD_VERSION;
    p.not_ready_reason = notReadyReason();
    p.ready = p.not_ready_reason.empty();
    return p;
  }
  std::string notReadyReason() const {
    if (stopping) return "stopping";
    if (draining) return "draining";
    const std::string& wanted = config->app ? config->app->ready_cluster : std::string();
    for (const auto& m : monitors) {
      if (m->name() == wanted) return m->notReadyReason();
    }
    return {};
  }
  Stats stats() const override;
  std::vector<ClusterStats> clusters() const override {
    std::vector<ClusterStats> out;
    for (const auto& m : monitors) out.push_back(m->stats());
    return out;
  }
  void drain() override {
    if (options.on_admin_drain) {
      options.on_admin_drain();
    } else {
      startDrain(nullptr);
    }
  }
  bool drainEndpoint(std::string_view cluster, std::string_view address) override {
    for (auto& m : monitors) {
      if (m->name() == cluster) return m->drain(address);
    }
    return false;
  }

  Result<> openAdmin();

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

// One SO_REUSEPORT socket per worker; with port 0 the first bind picks the port and the others
// join it. On failure every socket made here is closed.
Result<std::vector<api::Worker::Socket>> bindListener(const ListenerConfig& l, std::uint16_t id, std::size_t workers) {
  auto addr = net::toSockaddr(l.address);
  if (!addr) return fail(Errc::ConfigInvalid, "listener " + l.name + ": " + addr.error().detail);
  std::vector<api::Worker::Socket> out;
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
      for (auto& socket : out) ::close(socket.bound.fd);
      return fail(Errc::ConfigInvalid, "listener " + l.name + " on " + l.address.toString() + ": " + bound.error().detail);
    }
    port = bound->port;
    out.push_back(api::Worker::Socket{id, *bound});
  }
  return out;
}

// Fails when any process, another fairlead included, listens on `address`: SO_REUSEPORT alone would
// let ours join its group. `what`: "listener NAME" or "admin", for the message.
Result<> checkAddressFree(const std::string& what, const HostPort& address) {
  auto addr = net::toSockaddr(address);
  if (!addr) return fail(Errc::ConfigInvalid, what + ": " + addr.error().detail);
  if (auto free = net::TcpListener::checkAddressFree(*addr); !free) {
    return fail(Errc::ConfigInvalid, what + " on " + address.toString() + ": " + free.error().detail);
  }
  return {};
}

// Reads the listener's certificates and keys (again, at a reload); null for a plain listener.
Result<std::shared_ptr<const net::TlsServerContext>> tlsContext(const ListenerConfig& l,
                                                                std::shared_ptr<net::TlsTicketKeys> keys) {
  if (!l.tls) return std::shared_ptr<const net::TlsServerContext>();
  auto context = net::TlsServerContext::create(*l.tls, std::move(keys));
  if (!context) return fail(Errc::ConfigInvalid, "listener " + l.name + ": " + context.error().detail);
  return context;
}

void logCertificates(spdlog::logger& log, const ListenerConfig& l, const net::TlsServerContext& tls) {
  log.info("listener {}: TLS with {}", l.name, tls.describe());
  for (const std::string& w : tls.warnings()) log.warn("listener {}: {}", l.name, w);
}

void closeSockets(std::vector<std::vector<api::Worker::Socket>>& per_worker) {
  for (auto& sockets : per_worker) {
    for (auto& socket : sockets) ::close(socket.bound.fd);
  }
}

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

  const std::size_t workers = options.inline_workers ? 1 : config.workers != 0 ? config.workers : core::usableCpus();

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
    if (auto free = checkAddressFree("listener " + l.name, l.address); !free) return tl::unexpected(free.error());
  }
  if (config.admin) {
    if (auto free = checkAddressFree("admin", config.admin->address); !free) return tl::unexpected(free.error());
  }
  std::vector<std::shared_ptr<const net::TlsServerContext>> listener_tls;
  for (const auto& l : config.listeners) {
    auto tls = tlsContext(l, impl->ticket_keys);
    if (!tls) return tl::unexpected(tls.error());
    listener_tls.push_back(std::move(*tls));
  }
  std::vector<std::vector<api::Worker::Socket>> sockets(workers);
  std::vector<std::uint16_t> listener_ids;
  for (const auto& l : config.listeners) {
    const std::uint16_t id = impl->next_listener_id++;
    auto bound = bindListener(l, id, workers);
    if (!bound) {
      closeSockets(sockets);
      return tl::unexpected(bound.error());
    }
    for (std::size_t w = 0; w < workers; ++w) sockets[w].push_back((*bound)[w]);
    impl->ports.push_back((*bound)[0].bound.port);
    listener_ids.push_back(id);
  }

  impl->config = std::make_shared<const Config>(std::move(config));
  impl->runtime = session::RuntimeSnapshot::build(impl->config, std::move(clusters), std::move(listener_ids),
                                                  std::move(listener_tls), workers);
  const std::uint64_t per_worker_limit =
      (impl->config->limits.max_connections + workers - 1) / workers;
  for (std::size_t w = 0; w < workers; ++w) {
    impl->counters.push_back(std::make_unique<session::Counters>());
    impl->workers.push_back(std::make_unique<api::Worker>(
        w, impl->runtime, std::move(sockets[w]), *impl->counters.back(), impl->log,
        access, per_worker_limit, options.inline_workers ? loop : nullptr));
  }
  // Before any worker thread runs: a failure must leave nothing running behind the error.
  impl->options = std::move(options);
  if (impl->config->admin) {
    if (auto opened = impl->openAdmin(); !opened) return tl::unexpected(opened.error());
  }
  for (auto& w : impl->workers) {
    if (auto started = w->start(); !started) return tl::unexpected(started.error());
  }
  for (std::size_t i = 0; i < impl->ports.size(); ++i) {
    const ListenerConfig& l = impl->config->listeners[i];
    impl->log->info("listening on {} (port {}){}, {} worker{}", l.address.toString(), impl->ports[i],
                    l.tls ? " with TLS" : l.redirect_to_https != 0 ? " (redirects to HTTPS)" : "", workers,
                    workers == 1 ? "" : "s");
    if (const auto& tls = impl->runtime->listener_tls[i]) logCertificates(*impl->log, l, *tls);
  }
  if (impl->admin_worker) {
    const AdminConfig& admin = *impl->config->admin;
    impl->log->info("admin listening on {} (port {}){}", admin.address.toString(), impl->admin_port,
                    admin.token.empty() ? "" : ", bearer token required beyond /live and /ready");
  }
  return std::unique_ptr<Proxy>(new Proxy(std::move(impl)));
}

Result<> Proxy::checkFiles(const Config& config) {
  const auto keys = std::make_shared<net::TlsTicketKeys>();
  for (const ListenerConfig& l : config.listeners) {
    if (auto tls = tlsContext(l, keys); !tls) return tl::unexpected(tls.error());
  }
  for (const ClusterConfig& c : config.clusters) {
    if (!c.tls.enabled) continue;
    if (auto tls = net::TlsClientContext::create(c.tls); !tls) {
      return fail(Errc::ConfigInvalid, "cluster " + c.name + ": " + tls.error().detail);
    }
  }
  return {};
}

void Proxy::drain(std::function<void()> on_drained) { impl_->startDrain(std::move(on_drained)); }

void Proxy::stop(std::function<void()> on_stopped) {
  auto& impl = *impl_;
  if (impl.stopping) return;
  impl.stopping = true;
  impl.drain_timer->close();
  impl.monitors.clear();  // no more checks, and nothing more to publish
  impl.on_drained = nullptr;
  impl.on_stopped = std::move(on_stopped);
  if (impl.admin_worker) impl.workers.push_back(std::move(impl.admin_worker));
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

Result<> Proxy::reload(Result<Config> loaded) {
  auto& impl = *impl_;
  auto refuse = [&](Error e) -> Result<> {
    ++impl.reloads_failed;
    return tl::unexpected(std::move(e));
  };
  if (!loaded) return refuse(loaded.error());
  if (impl.draining || impl.stopping) return refuse(Error{Errc::Draining, Side::Internal, 0, "draining: not reloaded"});
  Config next = std::move(*loaded);
  if (auto valid = validateConfig(next); !valid) return refuse(valid.error());
  const Config& was = *impl.config;
  const auto keep = [&](const char* what, bool changed) {
    if (changed) impl.log->warn("reload: {} changes at the next start; the running value stays", what);
    return changed;
  };
  if (keep("workers", next.workers != was.workers)) next.workers = was.workers;
  if (keep("log.access", next.log.access != was.log.access)) next.log.access = was.log.access;
  // The app was started, and will be stopped, with the settings it had; which cluster /ready waits
  // for follows the file.
  const auto process = [](const std::optional<AppConfig>& app) {
    if (!app || app->command.empty()) return std::optional<AppConfig>();
    std::optional<AppConfig> out = app;
    out->ready_cluster.clear();
    return out;
  };
  if (keep("app.command, stop_signal, stop_timeout and forward_sighup", process(next.app) != process(was.app))) {
    const std::string ready = next.app ? next.app->ready_cluster : std::string();
    next.app = was.app ? was.app : next.app;
    if (!was.app) next.app->command.clear();
    next.app->ready_cluster = ready;
  }
  const bool admin_moved = next.admin.has_value() != was.admin.has_value() ||
                           (next.admin && was.admin && !(next.admin->address == was.admin->address));
  // A listener that stays where it is keeps its token too: the new one was checked against
  // another address (or none), and an open admin port must never lose its token by a reload.
  if (keep("admin.address", admin_moved)) next.admin = was.admin;
  const std::size_t workers = impl.workers.size();

  // Listeners, by address: a kept one keeps its id, sockets and counts.
  std::vector<std::vector<api::Worker::Socket>> added(workers);
  // Each old listener is claimed once: by the same address and name, then by the same address
  // (a port-0 address names no socket, so only with its name), then by the port a port-0
  // listener was given ("127.0.0.1:0" bound to 35151, now written "127.0.0.1:35151").
  const std::vector<std::uint16_t>& old_ids = impl.runtime->listener_ids;
  std::vector<bool> claimed(was.listeners.size(), false);
  std::vector<std::optional<std::size_t>> kept(next.listeners.size());
  const auto sameSocket = [&](int pass, const ListenerConfig& have, std::size_t i, const ListenerConfig& want) {
    if (pass == 0) return have.address == want.address && have.name == want.name;
    if (pass == 1) return have.address == want.address && want.address.port != 0;
    return have.address.host == want.address.host && impl.ports[i] == want.address.port;
  };
  for (const int pass : {0, 1, 2}) {
    for (std::size_t n = 0; n < next.listeners.size(); ++n) {
      for (std::size_t i = 0; i < was.listeners.size() && !kept[n]; ++i) {
        if (!claimed[i] && sameSocket(pass, was.listeners[i], i, next.listeners[n])) {
          claimed[i] = true;
          kept[n] = i;
        }
      }
    }
  }
  std::vector<std::uint16_t> listener_ids;
  std::vector<std::uint16_t> ports;
  std::uint16_t next_id = impl.next_listener_id;
  std::vector<std::string> opened;
  for (std::size_t n = 0; n < next.listeners.size(); ++n) {
    if (kept[n]) {
      listener_ids.push_back(old_ids[*kept[n]]);
      ports.push_back(impl.ports[*kept[n]]);
      continue;
    }
    // Bound now, so that a port in use fails the reload rather than a worker.
    const ListenerConfig& l = next.listeners[n];
    if (auto free = checkAddressFree("listener " + l.name, l.address); !free) {
      closeSockets(added);
      return refuse(free.error());
    }
    const std::uint16_t id = next_id++;
    auto bound = bindListener(l, id, workers);
    if (!bound) {
      closeSockets(added);
      return refuse(bound.error());
    }
    for (std::size_t w = 0; w < workers; ++w) added[w].push_back((*bound)[w]);
    opened.push_back(fmt::format("{} (port {})", l.address.toString(), (*bound)[0].bound.port));
    listener_ids.push_back(id);
    ports.push_back((*bound)[0].bound.port);
  }
  std::vector<std::uint16_t> removed;
  for (std::size_t i = 0; i < was.listeners.size(); ++i) {
    if (!claimed[i]) removed.push_back(old_ids[i]);
  }

  // Certificates are read again: a renewed one takes over for new connections. A listener that
  // cannot load its new ones keeps serving the old ones rather than going dark.
  std::vector<std::shared_ptr<const net::TlsServerContext>> listener_tls;
  std::vector<std::size_t> tls_reloaded;
  for (std::size_t n = 0; n < next.listeners.size(); ++n) {
    auto tls = tlsContext(next.listeners[n], impl.ticket_keys);
    if (tls) {
      if (*tls) tls_reloaded.push_back(n);
      listener_tls.push_back(std::move(*tls));
      continue;
    }
    const auto& previous = kept[n] ? impl.runtime->listener_tls[*kept[n]] : nullptr;
    if (!previous) {
      closeSockets(added);
      return refuse(tls.error());
    }
    impl.log->error("reload: {}; the listener keeps serving the certificates it had", tls.error().detail);
    listener_tls.push_back(previous);
  }

  // Clusters, by name: an unchanged one keeps its monitor as it is; a changed one gets a new
  // monitor that starts from the old one's view of each address.
  std::vector<std::unique_ptr<upstream::ClusterMonitor>> monitors;
  std::size_t kept_clusters = 0;
  for (const ClusterConfig& c : next.clusters) {
    auto old = std::find_if(impl.monitors.begin(), impl.monitors.end(), [&](const auto& m) { return m->name() == c.name; });
    if (old != impl.monitors.end() && (*old)->config() == c) {
      monitors.push_back(nullptr);  // taken from impl.monitors once nothing can fail any more
      ++kept_clusters;
      continue;
    }
    Impl* self = &impl;
    auto monitor = upstream::ClusterMonitor::create(*impl.control, c, impl.endpoint_ids, workers, impl.log,
                                                    [self] { self->publishClusters(); },
                                                    old == impl.monitors.end() ? nullptr : old->get());
    if (!monitor) {
      closeSockets(added);
      return refuse(monitor.error());
    }
    monitors.push_back(std::move(*monitor));
  }
  for (std::size_t i = 0; i < monitors.size(); ++i) {
    if (monitors[i]) continue;
    auto old = std::find_if(impl.monitors.begin(), impl.monitors.end(),
                            [&](const auto& m) { return m && m->name() == next.clusters[i].name; });
    monitors[i] = std::move(*old);
  }
  std::vector<std::shared_ptr<const upstream::ClusterSnapshot>> clusters;
  for (const auto& m : monitors) clusters.push_back(m->current());

  impl.log->set_level(spdlog::level::from_str(next.log.level));
  if (impl.admin_service && next.admin) impl.admin_service->setToken(next.admin->token);
  auto config = std::make_shared<const Config>(std::move(next));
  impl.runtime = session::RuntimeSnapshot::build(config, std::move(clusters), listener_ids, std::move(listener_tls),
                                                 workers, impl.runtime.get());
  impl.config = std::move(config);
  impl.monitors = std::move(monitors);  // the old monitors of changed or removed clusters stop here
  impl.next_listener_id = next_id;
  impl.ports = std::move(ports);
  const std::uint64_t per_worker_limit = (impl.config->limits.max_connections + workers - 1) / workers;
  for (std::size_t w = 0; w < workers; ++w) {
    impl.workers[w]->reconfigure(impl.runtime, std::move(added[w]), removed, per_worker_limit);
  }
  ++impl.reloads_ok;
  for (const std::string& l : opened) impl.log->info("reload: listening on {}", l);
  for (const std::size_t n : tls_reloaded) {
    logCertificates(*impl.log, impl.config->listeners[n], *impl.runtime->listener_tls[n]);
  }
  impl.log->info("reloaded: {} listener{} ({} new, {} closed), {} cluster{} ({} unchanged)", impl.config->listeners.size(),
                 impl.config->listeners.size() == 1 ? "" : "s", opened.size(), removed.size(),
                 impl.config->clusters.size(), impl.config->clusters.size() == 1 ? "" : "s", kept_clusters);
  return {};
}

bool Proxy::drainEndpoint(std::string_view cluster, std::string_view address) {
  return impl_->drainEndpoint(cluster, address);
}

Stats Proxy::stats() const { return impl_->stats(); }

Result<> Proxy::Impl::openAdmin() {
  const AdminConfig& admin = *config->admin;
  auto addr = net::toSockaddr(admin.address);
  if (!addr) return fail(Errc::ConfigInvalid, "admin: " + addr.error().detail);
  auto bound = net::TcpListener::openSocket(*addr);
  if (!bound) return fail(Errc::ConfigInvalid, "admin on " + admin.address.toString() + ": " + bound.error().detail);
  admin_port = bound->port;
  // The admin worker's own view: one listener, no routes, no clusters; its requests are not the
  // data plane's and are counted apart.
  auto own = std::make_shared<Config>(*config);
  own->listeners = {ListenerConfig{.name = "admin", .address = admin.address}};
  own->clusters.clear();
  own->log.access = AccessLogFormat::Off;
  admin_service = std::make_unique<admin::AdminService>(*this, admin.token);
  constexpr std::uint64_t kAdminConnections = 256;  // scrapers and health checkers, not clients
  admin_worker = std::make_unique<api::Worker>(0, session::RuntimeSnapshot::build(std::move(own), {}, {0}, {}, 1),
                                               std::vector<api::Worker::Socket>{{0, *bound}}, admin_counters, log,
                                               nullptr, kAdminConnections, loop, admin_service.get());
  return admin_worker->start();
}

Stats Proxy::Impl::stats() const {
  Stats out;
  for (const auto& c : counters) c->addTo(out);
  for (std::size_t i = 0; i < runtime->config->listeners.size(); ++i) {
    ListenerStats& l = out.listeners.emplace_back();
    l.name = runtime->config->listeners[i].name;
    for (const session::ListenerCounters& block : *runtime->listener_counters[i]) {
      for (std::size_t k = 0; k < 6; ++k) l.responses_by_class[k] += block.responses_by_class[k].load(std::memory_order_relaxed);
      core::addTo(block.duration, l.duration);
    }
  }
  return out;
}

std::vector<ClusterStats> Proxy::clusters() const { return impl_->clusters(); }

std::optional<std::uint16_t> Proxy::adminPort() const {
  if (!impl_->admin_worker) return std::nullopt;
  return impl_->admin_port;
}

std::vector<std::uint16_t> Proxy::listenerPorts() const { return impl_->ports; }

}  // namespace fairlead

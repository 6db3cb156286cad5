// fairlead::Proxy: everything an embedder needs. Created and driven on the caller's libuv loop; it
// starts `workers` event-loop threads of its own (or runs the data plane inline), never runs or
// closes the caller's loop, installs no signal handlers and never exits the process. Sockets are
// written with MSG_NOSIGNAL, so the host need not ignore SIGPIPE on fairlead's account.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include <spdlog/logger.h>
#include <uv.h>

#include <fairlead/config.hpp>
#include <fairlead/result.hpp>
#include <fairlead/stats.hpp>

namespace fairlead {

struct Options {
  std::shared_ptr<spdlog::logger> logger;         // null: a stderr logger named "fairlead"
  std::shared_ptr<spdlog::logger> access_logger;  // null: built from config.log.access (stdout)
  bool inline_workers = false;  // data plane on the caller's loop (tests, small hosts)
  // POST /drain on the admin listener, on the caller's loop: start the drain as for SIGTERM (the
  // binary calls Proxy::drain with its own continuation). Null: Proxy::drain with no callback.
  std::function<void()> on_admin_drain;
};

class Proxy {
 public:
  // Binds every listener (so a port in use fails here), then starts the workers.
  static Result<std::unique_ptr<Proxy>> create(uv_loop_t* loop, Config config,
                                               Options options = {});
  // Reads every file a valid config names (certificates, keys, CA bundles) as create() would,
  // without binding or starting anything: what `fairlead --check` adds to the config's own checks.
  static Result<> checkFiles(const Config& config);
  ~Proxy();  // only after stop() has called back
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Applies a new configuration (SIGHUP). Invalid: nothing changes, and the error lists every
  // problem. Otherwise new requests use it while requests in flight finish on the old one;
  // listeners whose address stays keep their sockets (no connection refused), added ones open,
  // removed ones close and drain; endpoints keep their health and pooled connections by address;
  // WebSocket tunnels go on. `workers`, `log.access` and `admin.address` need a restart (a warning
  // says so; the running values stay). Refused while draining. A config that failed to load is
  // passed as its error, so that every failed reload is counted in one place. On the caller's loop.
  Result<> reload(Result<Config> config);

  // Serves on for config.drain.delay, then stops accepting and lets requests in flight finish
  // (idle connections close at once) for up to config.drain.timeout, after which what is left is
  // closed. Calls back on the caller's loop when every connection is gone. Idempotent.
  void drain(std::function<void()> on_drained);
  // Closes every connection and handle the proxy opened, joins the workers, calls back on the
  // caller's loop. After the callback the caller's loop holds nothing of ours.
  void stop(std::function<void()> on_stopped);

  // Takes one endpoint of a cluster out gracefully: no new requests, those in flight finish. The
  // address is "ip:port", or "host:port" as configured (then every address of that name). False
  // when there is no such cluster or endpoint. On the caller's loop.
  bool drainEndpoint(std::string_view cluster, std::string_view address);

  Stats stats() const;
  // Every cluster's endpoints: health, ejections, weights, requests in flight and by status class,
  // failures by kind, and the queue. On the caller's loop.
  std::vector<ClusterStats> clusters() const;
  // Ports the listeners are bound to, in config order (useful with port 0).
  std::vector<std::uint16_t> listenerPorts() const;
  // The admin listener's port, when config.admin is set.
  std::optional<std::uint16_t> adminPort() const;

  struct Impl;

 private:
  explicit Proxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fairlead

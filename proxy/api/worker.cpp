#include "api/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

#include "core/assert.hpp"
#include "net/tls_transport.hpp"

namespace fairlead::api {

Worker::Worker(std::size_t index, std::shared_ptr<const session::RuntimeSnapshot> runtime,
               std::vector<Socket> sockets, session::Counters& counters,
               std::shared_ptr<spdlog::logger> log, std::shared_ptr<spdlog::logger> access_log,
               std::uint64_t max_connections, uv_loop_t* inline_loop, session::LocalService* service)
    : index_(index), sockets_(std::move(sockets)) {
  if (inline_loop != nullptr) {
    raw_loop_ = inline_loop;
  } else {
    own_loop_ = std::make_unique<uv_loop_t>();
    FL_CHECK(uv_loop_init(own_loop_.get()) == 0, "uv_loop_init");
    raw_loop_ = own_loop_.get();
  }
  loop_ = std::make_unique<net::Loop>(raw_loop_);
  const AccessLogFormat format = runtime->config->log.access;
  ctx_ = std::unique_ptr<session::WorkerContext>(new session::WorkerContext{
      .loop = *loop_,
      .runtime = std::move(runtime),
      .balancers = upstream::Balancers(index_, index_),
      .counters = counters,
      .log = std::move(log),
      .access_log = std::move(access_log),
      .access_format = format,
      .max_connections = max_connections,
      .worker = index_,
      .service = service,
  });
  ctx_->rng.seed(std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32));
}

Worker::~Worker() {
  join();
  for (auto& s : sockets_) {
    if (s.bound.fd >= 0) ::close(s.bound.fd);
  }
  ctx_.reset();
  loop_.reset();
  if (own_loop_) uv_loop_close(own_loop_.get());
}

void Worker::setRuntime(std::shared_ptr<const session::RuntimeSnapshot> runtime) {
  loop_->post([this, runtime = std::move(runtime)]() mutable { ctx_->runtime = std::move(runtime); });
}

Result<> Worker::start() {
  for (auto& socket : sockets_) {
    if (auto listening = listen(std::exchange(socket, Socket{})); !listening) return listening;
  }
  sockets_.clear();
  if (own_loop_) {
    thread_ = std::thread([this] {
      loop_->adoptCurrentThread();
      uv_run(raw_loop_, UV_RUN_DEFAULT);
    });
  }
  return {};
}

Result<> Worker::listen(Socket socket) {
  const std::uint16_t port = socket.bound.port;
  const std::uint16_t id = socket.listener_id;
  auto listener = net::TcpListener::adopt(
      *loop_, socket.bound,
      [this, id, port](net::TcpListener::Accepted a) { onConnection(a, id, port); },
      [this, port](int error, std::chrono::milliseconds pause) {
        session::bump(ctx_->counters.accept_pauses_total);
        // Once per episode: while descriptors stay exhausted the pause repeats every 100 ms.
        if (std::exchange(accept_exhausted_, true)) return;
        ctx_->log->warn("listener :{}: accept failed ({}); not accepting for {} ms", port,
                        uv_strerror(uv_translate_sys_error(error)), pause.count());
      });
  if (!listener) return tl::unexpected(listener.error());
  listeners_.emplace_back(id, std::move(*listener));
  return {};
}

void Worker::reconfigure(std::shared_ptr<const session::RuntimeSnapshot> runtime, std::vector<Socket> added,
                         std::vector<std::uint16_t> removed, std::uint64_t max_connections) {
  loop_->post([this, runtime = std::move(runtime), added = std::move(added), removed = std::move(removed),
               max_connections]() mutable {
    ctx_->runtime = std::move(runtime);
    ctx_->max_connections = max_connections;
    if (ctx_->draining) {  // listeners are closed for good; the new ones' sockets are not wanted
      for (auto& socket : added) ::close(socket.bound.fd);
      return;
    }
    for (auto& socket : added) {
      if (auto listening = listen(socket); !listening) {
        ctx_->log->error("listener :{}: {}", socket.bound.port, listening.error().detail);
      }
    }
    const auto gone = [&](std::uint16_t id) { return std::find(removed.begin(), removed.end(), id) != removed.end(); };
    for (auto& [id, listener] : listeners_) {
      if (gone(id)) listener->close();
    }
    std::erase_if(listeners_, [&](const auto& entry) { return gone(entry.first); });
    for (auto* s : sessions_.snapshot()) {
      if (s->linked() && gone(s->listenerId())) s->drain();
    }
  });
}

void Worker::onConnection(net::TcpListener::Accepted accepted, std::uint16_t listener_id, std::uint16_t port) {
  accept_exhausted_ = false;
  std::unique_ptr<net::Transport> conn = net::TcpConnection::adopt(*loop_, accepted.fd, accepted.peer, nullptr);
  const session::RuntimeSnapshot& runtime = *ctx_->runtime;
  if (const auto index = runtime.listenerIndex(listener_id); index && runtime.listener_tls[*index]) {
    conn = net::TlsTransport::server(*loop_, std::move(conn), runtime.listener_tls[*index], ctx_->counters.tls);
  }
  const bool over_limit =
      sessions_.size() >= ctx_->max_connections || ctx_->draining;
  auto* session = new session::DownstreamSession(*ctx_, std::move(conn), listener_id, port, *this);
  sessions_.pushBack(*session);
  if (over_limit) {
    session->startRefused();
  } else {
    session->start();
  }
}

void Worker::sessionClosed(session::DownstreamSession& s) noexcept {
  sessions_.erase(s);
  loop_->deferDelete(std::unique_ptr<net::Deletable>(&s));
  if (on_drained_) checkDrained();
}

void Worker::closeListeners() {
  for (auto& [id, listener] : listeners_) listener->close();
  listeners_.clear();
}

void Worker::drain(std::function<void()> on_drained) {
  loop_->post([this, on_drained = std::move(on_drained)]() mutable {
    on_drained_ = std::move(on_drained);
    ctx_->draining = true;
    closeListeners();
    // A session may close (and leave the list) while we walk it; closed ones are deleted only
    // on a later loop turn, so asking them is safe.
    for (auto* s : sessions_.snapshot()) {
      if (s->linked()) s->drain();
    }
    checkDrained();
  });
}

void Worker::checkDrained() {
  if (sessions_.empty() && on_drained_) std::exchange(on_drained_, nullptr)();
}

void Worker::stop(std::function<void()> on_stopped) {
  loop_->post([this, on_stopped = std::move(on_stopped)]() mutable {
    on_stopped_ = std::move(on_stopped);
    shutdownLoop();
  });
}

void Worker::closeSessions() {
  loop_->post([this] {
    for (auto* s : sessions_.snapshot()) {
      if (s->linked()) s->close();
    }
  });
}

void Worker::shutdownLoop() {
  closeListeners();
  for (auto* s : sessions_.snapshot()) s->close();
  ctx_->pools.closeAll();
  loop_->close();
  // Every handle of ours is closing now; the worker thread's uv_run returns once they are gone.
  if (on_stopped_) std::exchange(on_stopped_, nullptr)();
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace fairlead::api

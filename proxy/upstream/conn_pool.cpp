#include "upstream/conn_pool.hpp"

#include <algorithm>
#include <chrono>

#include "core/assert.hpp"

namespace fairlead::upstream {
namespace {

// A parked connection keeps its buffers this long (the next request usually takes it back at once)
// and then gives them back, so that a pool grown by a burst costs little while it waits.
constexpr std::chrono::milliseconds kReleaseBuffersAfter{1000};

}  // namespace

ConnPool::~ConnPool() { closeAll(); }

std::unique_ptr<UpstreamConnection> ConnPool::acquire(UpstreamConnection::User* user) {
  FL_ASSERT_ON_LOOP(loop_);
  if (idle_.empty()) return nullptr;
  auto conn = std::move(idle_.back());
  idle_.pop_back();
  conn->timer().stop();
  conn->lend();
  conn->setUser(user);
  return conn;
}

void ConnPool::release(std::unique_ptr<UpstreamConnection> conn, const ClusterConfig& settings) {
  FL_ASSERT_ON_LOOP(loop_);
  if (idle_.size() >= settings.max_idle_per_endpoint || conn->transport().closed()) {
    discard(loop_, std::move(conn));
    return;
  }
  conn->setUser(this);
  conn->setIdleTimeout(settings.idle_timeout);
  // Still reading, as it was while busy: a close by the app is seen at once.
  conn->timer().start(std::min(settings.idle_timeout, kReleaseBuffersAfter));
  idle_.push_back(std::move(conn));
}

void discard(net::Loop& loop, std::unique_ptr<UpstreamConnection> conn) {
  conn->setUser(nullptr);
  conn->close();
  loop.deferDelete(std::move(conn));
}

void ConnPool::closeAll() noexcept {
  for (auto& conn : idle_) conn->close();
  idle_.clear();
}

void ConnPool::drop(UpstreamConnection& conn) noexcept {
  auto it = std::find_if(idle_.begin(), idle_.end(), [&](const auto& c) { return c.get() == &conn; });
  if (it == idle_.end()) return;
  auto owned = std::move(*it);
  idle_.erase(it);
  discard(loop_, std::move(owned));
}

// An idle connection must stay silent: bytes from the app now belong to no request.
void ConnPool::onUpstreamRead(UpstreamConnection& conn, std::string_view) noexcept { drop(conn); }
void ConnPool::onUpstreamReadEnd(UpstreamConnection& conn, int) noexcept { drop(conn); }
// A send of the last exchange failed after its response completed (reported on a later turn).
void ConnPool::onUpstreamWriteDone(UpstreamConnection& conn, int status) noexcept {
  if (status != 0) drop(conn);
}
void ConnPool::onUpstreamTimeout(UpstreamConnection& conn) noexcept {
  const auto idle_timeout = conn.idleTimeout();
  if (!conn.buffersReleased() && idle_timeout > kReleaseBuffersAfter) {
    conn.releaseBuffers();
    log_.debug("upstream {}: an idle connection gave back its buffers", authority_);
    conn.timer().start(idle_timeout - kReleaseBuffersAfter);
    return;
  }
  drop(conn);
}

ConnPool& ConnPools::forEndpoint(const Endpoint& endpoint) {
  if (endpoint.id >= by_id_.size()) by_id_.resize(endpoint.id + 1);
  auto& pool = by_id_[endpoint.id];
  if (!pool) pool = std::make_unique<ConnPool>(loop_, log_, endpoint.authority);
  return *pool;
}

void ConnPools::closeAll() noexcept {
  for (auto& pool : by_id_) {
    if (pool) pool->closeAll();
  }
}

}  // namespace fairlead::upstream

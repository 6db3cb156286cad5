#include "upstream/conn_pool.hpp"

#include <algorithm>

#include "core/assert.hpp"

namespace fairlead::upstream {
namespace {

// A parked connection keeps its buffers this long (the next request usually takes it back at once)
// and then gives them back, so that a pool grown by a burst costs little while it waits.
constexpr std::chrono::milliseconds kReleaseBuffersAfter{1000};

}  // namespace

ConnPool::ConnPool(net::Loop& loop, std::shared_ptr<const ClusterSnapshot> cluster)
    : loop_(loop), cluster_(std::move(cluster)), idle_(cluster_->endpoints.size()) {}

ConnPool::~ConnPool() { closeAll(); }

std::unique_ptr<UpstreamConnection> ConnPool::acquire(std::size_t endpoint_index,
                                                      UpstreamConnection::User* user) {
  FL_ASSERT_ON_LOOP(loop_);
  auto& idle = idle_[endpoint_index];
  if (idle.empty()) return nullptr;
  auto conn = std::move(idle.back());
  idle.pop_back();
  conn->timer().stop();
  conn->lend();
  conn->setUser(user);
  return conn;
}

void ConnPool::release(std::unique_ptr<UpstreamConnection> conn) {
  FL_ASSERT_ON_LOOP(loop_);
  auto& idle = idle_[conn->endpointIndex()];
  if (idle.size() >= cluster_->config.max_idle_per_endpoint || conn->transport().closed()) {
    discard(std::move(conn));
    return;
  }
  conn->setUser(this);
  // Still reading, as it was while busy: a close by the app is seen at once.
  const auto idle_timeout = cluster_->config.idle_timeout;
  conn->timer().start(std::min(idle_timeout, kReleaseBuffersAfter));
  idle.push_back(std::move(conn));
}

void ConnPool::discard(std::unique_ptr<UpstreamConnection> conn) {
  conn->setUser(nullptr);
  conn->close();
  loop_.deferDelete(std::move(conn));
}

void ConnPool::closeAll() noexcept {
  for (auto& v : idle_) {
    for (auto& conn : v) conn->close();
    v.clear();
  }
}

void ConnPool::drop(UpstreamConnection& conn) noexcept {
  auto& idle = idle_[conn.endpointIndex()];
  auto it = std::find_if(idle.begin(), idle.end(), [&](const auto& c) { return c.get() == &conn; });
  if (it == idle.end()) return;
  auto owned = std::move(*it);
  idle.erase(it);
  discard(std::move(owned));
}

// An idle connection must stay silent: bytes from the app now belong to no request.
void ConnPool::onUpstreamRead(UpstreamConnection& conn, std::string_view) noexcept { drop(conn); }
void ConnPool::onUpstreamReadEnd(UpstreamConnection& conn, int) noexcept { drop(conn); }
void ConnPool::onUpstreamTimeout(UpstreamConnection& conn) noexcept {
  const auto idle_timeout = cluster_->config.idle_timeout;
  if (!conn.buffersReleased() && idle_timeout > kReleaseBuffersAfter) {
    conn.releaseBuffers();
    conn.timer().start(idle_timeout - kReleaseBuffersAfter);
    return;
  }
  drop(conn);
}

}  // namespace fairlead::upstream

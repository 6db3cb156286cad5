// ConnPool: idle keep-alive connections to one cluster's endpoints, for one worker. Idle
// connections are read from so that a close by the app is noticed at once, and are closed after
// idle_timeout, which sits below the app's own keep-alive (uvicorn: 5 s) so that fairlead, not the
// app, closes first. Most recently used first: fewer connections stay warm.
#pragma once

#include <memory>
#include <vector>

#include "net/loop.hpp"
#include "upstream/upstream_connection.hpp"

namespace fairlead::upstream {

class ConnPool final : private UpstreamConnection::User {
 public:
  ConnPool(net::Loop& loop, std::shared_ptr<const ClusterSnapshot> cluster);
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  const ClusterSnapshot& cluster() const noexcept { return *cluster_; }
  // An idle connection to the endpoint, or null.
  std::unique_ptr<UpstreamConnection> acquire(std::size_t endpoint_index, UpstreamConnection::User* user);
  // Takes back a connection whose last response completed cleanly; closes it when the pool is full.
  void release(std::unique_ptr<UpstreamConnection> conn);
  // A connection that cannot be reused: closed now, freed after the current callback.
  void discard(std::unique_ptr<UpstreamConnection> conn);
  void closeAll() noexcept;

 private:
  void onUpstreamConnect(UpstreamConnection&, int) noexcept override {}
  void onUpstreamRead(UpstreamConnection& conn, std::string_view) noexcept override;
  void onUpstreamReadEnd(UpstreamConnection& conn, int) noexcept override;
  void onUpstreamWriteDone(UpstreamConnection&, int) noexcept override {}
  void onUpstreamTimeout(UpstreamConnection& conn) noexcept override;
  void drop(UpstreamConnection& conn) noexcept;

  net::Loop& loop_;
  std::shared_ptr<const ClusterSnapshot> cluster_;
  std::vector<std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // per endpoint
};

}  // namespace fairlead::upstream

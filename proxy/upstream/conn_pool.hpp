// ConnPool: one worker's idle keep-alive connections to one endpoint address, and ConnPools, all
// of a worker's pools found by endpoint id (so two clusters naming one address share its pool, and
// a pool survives a change of the clusters around it). Idle connections are read from so that a
// close by the app is noticed at once, and are closed after the cluster's idle_timeout, which
// sits below the app's own keep-alive (uvicorn: 5 s) so that fairlead, not the app, closes first.
// Most recently used first: fewer connections stay warm. One worker loop.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "net/loop.hpp"
#include "upstream/cluster.hpp"
#include "upstream/upstream_connection.hpp"

namespace fairlead::upstream {

class ConnPool final : private UpstreamConnection::User {
 public:
  ConnPool(net::Loop& loop, spdlog::logger& log, std::string_view authority)
      : loop_(loop), log_(log), authority_(authority) {}
  ~ConnPool();
  ConnPool(const ConnPool&) = delete;
  ConnPool& operator=(const ConnPool&) = delete;

  // An idle connection, or null.
  std::unique_ptr<UpstreamConnection> acquire(UpstreamConnection::User* user);
  // Takes back a connection whose last response completed cleanly, under the settings of the
  // cluster that used it; closes it when the pool is full.
  void release(std::unique_ptr<UpstreamConnection> conn, const ClusterConfig& settings);
  void closeAll() noexcept;

 private:
  void onUpstreamConnect(UpstreamConnection&, int) noexcept override {}
  void onUpstreamRead(UpstreamConnection& conn, std::string_view) noexcept override;
  void onUpstreamReadEnd(UpstreamConnection& conn, int) noexcept override;
  void onUpstreamWriteDone(UpstreamConnection& conn, int status) noexcept override;
  void onUpstreamTimeout(UpstreamConnection& conn) noexcept override;
  void drop(UpstreamConnection& conn) noexcept;

  net::Loop& loop_;
  spdlog::logger& log_;
  std::string authority_;  // for the log
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
};

// A connection that cannot be reused: closed now, freed after the current callback. Needs no pool.
void discard(net::Loop& loop, std::unique_ptr<UpstreamConnection> conn);

class ConnPools {
 public:
  ConnPools(net::Loop& loop, spdlog::logger& log) noexcept : loop_(loop), log_(log) {}
  ConnPool& forEndpoint(const Endpoint& endpoint);
  void closeAll() noexcept;

 private:
  net::Loop& loop_;
  spdlog::logger& log_;
  std::vector<std::unique_ptr<ConnPool>> by_id_;  // grown on first use of an id
};

}  // namespace fairlead::upstream

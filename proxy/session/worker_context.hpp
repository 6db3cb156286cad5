// WorkerContext: what every session on one worker loop shares: the loop, the current runtime
// snapshot (config, routes, clusters), the worker's connection pools and balancer state, counters
// and loggers. Owned by the
// Worker; touched only on its loop thread (counters are atomics so Proxy::stats() can read them
// from elsewhere).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include <fairlead/config.hpp>
#include <fairlead/stats.hpp>
#include "core/counter.hpp"
#include "core/random.hpp"
#include "net/heap_reclaim.hpp"
#include "net/loop.hpp"
#include "net/tls_context.hpp"
#include "session/local_service.hpp"
#include "session/runtime_snapshot.hpp"
#include "session/static_files.hpp"
#include "upstream/conn_pool.hpp"
#include "upstream/lb/load_balancer.hpp"
#include "upstream/retry_budget.hpp"

namespace fairlead::session {

struct Counters {
  std::atomic<std::uint64_t> downstream_connections_total{0};
  std::atomic<std::uint64_t> downstream_connections_active{0};
  std::atomic<std::uint64_t> downstream_connections_refused{0};
  std::atomic<std::uint64_t> accept_pauses_total{0};
  std::atomic<std::uint64_t> requests_total{0};
  std::atomic<std::uint64_t> requests_active{0};
  std::atomic<std::uint64_t> responses_by_class[6] = {};
  std::atomic<std::uint64_t> upstream_connections_total{0};
  std::atomic<std::uint64_t> upstream_retries_total{0};
  std::atomic<std::uint64_t> upstream_retries_over_budget{0};
  std::atomic<std::uint64_t> client_send_timeouts{0};
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  net::TlsCounters tls;

  void addTo(Stats& out) const noexcept;
};

// Each counter has one writer: its worker.
using core::bump;

struct WorkerContext {
  net::Loop& loop;
  // What new requests start with; each request keeps the one it started with.
  std::shared_ptr<const RuntimeSnapshot> runtime;
  upstream::Balancers balancers;
  Counters& counters;
  std::shared_ptr<spdlog::logger> log;
  std::shared_ptr<spdlog::logger> access_log;  // null: access log off
  AccessLogFormat access_format = AccessLogFormat::Json;
  std::uint64_t max_connections = 0;           // this worker's share of limits.max_connections
  std::size_t worker = 0;                      // which block of each endpoint's counters is ours
  LocalService* service = nullptr;  // set: every request here is its to answer, not the routes'

  bool draining = false;
  core::SplitMix rng;  // seeded by the Worker
  std::uint64_t next_connection_id = 1;
  // A response head is serialised here, then written to its transport: one buffer per loop.
  std::string head_buffer;
  net::HeapReclaim heap_reclaim{loop};
  upstream::ConnPools pools{loop, *log};  // by endpoint address: they outlive any one snapshot
  std::vector<upstream::RetryBudget> retry_budgets;  // by cluster id, grown on first use
  StaticRoots static_roots;

  upstream::RetryBudget& retryBudget(std::uint32_t cluster_id) {
    if (cluster_id >= retry_budgets.size()) retry_budgets.resize(cluster_id + 1);
    return retry_budgets[cluster_id];
  }

  // Request ids need uniqueness, not secrecy, and must not cost a syscall.
  std::uint64_t random() noexcept { return rng.next(); }
};

}  // namespace fairlead::session

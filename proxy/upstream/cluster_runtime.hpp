// ClusterRuntime: one cluster as one worker uses it: its connection pool and its place in the
// round robin. Owned by the worker's context; touched only on that worker's loop.
#pragma once

#include <cstddef>
#include <memory>

#include "upstream/conn_pool.hpp"

namespace fairlead::upstream {

struct ClusterRuntime {
  std::unique_ptr<ConnPool> pool;
  std::size_t next_endpoint = 0;  // round robin; workers start at different endpoints

  std::size_t pickEndpoint() noexcept {
    const std::size_t n = pool->cluster().endpoints.size();
    return next_endpoint++ % n;
  }
};

}  // namespace fairlead::upstream

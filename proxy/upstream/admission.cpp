#include "upstream/admission.hpp"

#include <algorithm>

#include "upstream/cluster.hpp"

namespace fairlead::upstream {

Admission::Decision Admission::acquire(const ClusterSnapshot& cluster, std::size_t preferred, std::uint64_t tried,
                                       const std::shared_ptr<Ticket>& ticket) {
  const auto& endpoints = cluster.endpoints;
  std::lock_guard lock(mutex_);
  std::size_t chosen = endpoints.size();
  if (preferred < endpoints.size() && endpoints[preferred].shared->capped_active < max_per_endpoint_) {
    chosen = preferred;
  } else {
    for (std::size_t i = 0; i < endpoints.size(); ++i) {
      const std::uint32_t busy = endpoints[i].shared->capped_active;
      const bool eligible = cluster.takesRequests(i) &&
                            !(i < 64 && (tried >> i & 1)) && busy < max_per_endpoint_;
      if (eligible && (chosen == endpoints.size() || busy < endpoints[chosen].shared->capped_active)) chosen = i;
    }
  }
  if (chosen != endpoints.size()) {
    ++endpoints[chosen].shared->capped_active;
    return Decision{Outcome::Granted, chosen};
  }
  if (queue_.size() >= max_queue_) {
    overflows_total_.fetch_add(1, std::memory_order_relaxed);
    return Decision{Outcome::QueueFull, 0};
  }
  queue_.push_back(ticket);
  queued_.store(queue_.size(), std::memory_order_relaxed);
  return Decision{Outcome::Queued, 0};
}

void Admission::release(const std::shared_ptr<SharedEndpoint>& endpoint) {
  std::shared_ptr<Ticket> next;
  {
    std::lock_guard lock(mutex_);
    if (queue_.empty()) {
      if (endpoint->capped_active > 0) --endpoint->capped_active;
      return;
    }
    next = std::move(queue_.front());
    queue_.pop_front();
    queued_.store(queue_.size(), std::memory_order_relaxed);
  }
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - next->since);
  waits_total_.fetch_add(1, std::memory_order_relaxed);
  wait_ms_total_.fetch_add(static_cast<std::uint64_t>(waited.count()), std::memory_order_relaxed);
  // The slot moves with the grant; nothing is freed, so the cap cannot be overshot in between.
  next->loop->post([self = shared_from_this(), next, endpoint] {
    if (next->waiter == nullptr) {
      self->release(endpoint);
      return;
    }
    next->waiter->onSlotGranted(endpoint);
  });
}

bool Admission::cancel(const std::shared_ptr<Ticket>& ticket) {
  std::lock_guard lock(mutex_);
  const auto it = std::find(queue_.begin(), queue_.end(), ticket);
  if (it == queue_.end()) return false;
  queue_.erase(it);
  queued_.store(queue_.size(), std::memory_order_relaxed);
  return true;
}

}  // namespace fairlead::upstream

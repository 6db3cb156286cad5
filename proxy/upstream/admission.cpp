#include "upstream/admission.hpp"

#include <algorithm>

#include "upstream/cluster.hpp"

namespace fairlead::upstream {
namespace {

// The least busy endpoint of `cluster` with a free slot that takes requests and was not tried, or
// `endpoints.size()`.
std::size_t freeSlot(const ClusterSnapshot& cluster, std::uint32_t cap, std::uint64_t tried) noexcept {
  const auto& endpoints = cluster.endpoints;
  std::size_t chosen = endpoints.size();
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const std::uint32_t busy = endpoints[i].shared->capped_active;
    const bool eligible = cluster.takesRequests(i) && !(i < 64 && (tried >> i & 1)) && busy < cap;
    if (eligible && (chosen == endpoints.size() || busy < endpoints[chosen].shared->capped_active)) chosen = i;
  }
  return chosen;
}

}  // namespace

void Admission::update(std::shared_ptr<const ClusterSnapshot> current) {
  std::vector<Grant> grants;
  {
    std::lock_guard lock(mutex_);
    current_ = current;
    if (current) grants = dispatchLocked(*current);
  }
  deliver(std::move(grants), current);
}

Admission::Decision Admission::acquire(const ClusterSnapshot& cluster, std::size_t preferred, std::uint64_t tried,
                                       const std::shared_ptr<Ticket>& ticket) {
  const auto& endpoints = cluster.endpoints;
  std::lock_guard lock(mutex_);
  std::size_t chosen = preferred < endpoints.size() && endpoints[preferred].shared->capped_active < max_per_endpoint_
                           ? preferred
                           : freeSlot(cluster, max_per_endpoint_, tried);
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
  std::vector<Grant> grants;
  std::shared_ptr<const ClusterSnapshot> cluster;
  {
    std::lock_guard lock(mutex_);
    if (endpoint->capped_active > 0) --endpoint->capped_active;
    cluster = current_.lock();
    if (cluster) grants = dispatchLocked(*cluster);
  }
  deliver(std::move(grants), cluster);
}

std::vector<Admission::Grant> Admission::dispatchLocked(const ClusterSnapshot& cluster) {
  std::vector<Grant> grants;
  while (!queue_.empty()) {
    const std::size_t i = freeSlot(cluster, max_per_endpoint_, 0);
    if (i == cluster.endpoints.size()) break;
    ++cluster.endpoints[i].shared->capped_active;
    grants.push_back(Grant{std::move(queue_.front()), i});
    queue_.pop_front();
  }
  queued_.store(queue_.size(), std::memory_order_relaxed);
  return grants;
}

void Admission::deliver(std::vector<Grant> grants, const std::shared_ptr<const ClusterSnapshot>& cluster) {
  const auto now = std::chrono::steady_clock::now();
  for (Grant& g : grants) {
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - g.ticket->since);
    waits_total_.fetch_add(1, std::memory_order_relaxed);
    wait_ms_total_.fetch_add(static_cast<std::uint64_t>(waited.count()), std::memory_order_relaxed);
    net::Loop* loop = g.ticket->loop;
    loop->post([self = shared_from_this(), ticket = std::move(g.ticket), cluster, index = g.index] {
      if (ticket->waiter == nullptr) {
        self->release(cluster->endpoints[index].shared);
        return;
      }
      ticket->waiter->onSlotGranted(cluster, index);
    });
  }
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

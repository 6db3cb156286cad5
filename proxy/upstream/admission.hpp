// Admission: max_requests_per_endpoint across every worker, and the queue of requests waiting for
// a slot. A Python app with N uvicorn workers does N things at once; what comes beyond that should
// wait here, in order, where waiting costs a few hundred bytes, rather than inside the app.
//
// How it is shared: one mutex per cluster guards the slot counts and a FIFO of waiting tickets.
// Taking a slot and giving one back are a lock, a compare and an unlock (no syscall), and only for
// clusters that set a cap. Whenever a slot frees, or the cluster's endpoints change (one recovers,
// joins or is ejected), the oldest waiting tickets get the free slots of the endpoints that take
// requests now, under the same lock, so the cap is exact and the order first come, first served
// across workers. A grant is posted to the loop of the worker its ticket waits on.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "net/loop.hpp"
#include "upstream/shared_endpoint.hpp"

namespace fairlead::upstream {

struct ClusterSnapshot;

class Admission : public std::enable_shared_from_this<Admission> {
 public:
  // Whoever waits for a slot; told on its own loop. The slot is on endpoint `index` of `cluster`,
  // the cluster as it was when the slot was given, which may be newer than the waiter's.
  class Waiter {
   public:
    virtual void onSlotGranted(const std::shared_ptr<const ClusterSnapshot>& cluster, std::size_t index) noexcept = 0;

   protected:
    ~Waiter() = default;
  };

  // One wait. Shared by the queue and the waiter; `waiter` is cleared (on the waiter's loop) when
  // it stops waiting, and a grant that arrives after that gives the slot back.
  struct Ticket {
    net::Loop* loop = nullptr;
    Waiter* waiter = nullptr;
    std::chrono::steady_clock::time_point since{};
  };

  enum class Outcome : std::uint8_t { Granted, Queued, QueueFull };
  struct Decision {
    Outcome outcome = Outcome::QueueFull;
    std::size_t endpoint = 0;  // Granted: the index in the cluster snapshot
  };

  Admission(std::uint32_t max_per_endpoint, std::uint32_t max_queue) noexcept
      : max_per_endpoint_(max_per_endpoint), max_queue_(max_queue) {}

  // The cluster as it is now (control thread, at every new snapshot): queued requests get any slot
  // it frees up, e.g. on an endpoint back from ejection.
  void update(std::shared_ptr<const ClusterSnapshot> current);
  // A slot on `preferred` if it has one, else on the least busy other endpoint that takes requests
  // and was not tried; else the ticket is queued (or refused, the queue being full).
  Decision acquire(const ClusterSnapshot& cluster, std::size_t preferred, std::uint64_t tried,
                   const std::shared_ptr<Ticket>& ticket);
  // Gives back the slot taken on `endpoint`; the oldest waiting ticket may get it (or another).
  void release(const std::shared_ptr<SharedEndpoint>& endpoint);
  // Takes the ticket out of the queue: true if it was there, false if its grant is on its way.
  bool cancel(const std::shared_ptr<Ticket>& ticket);

  std::size_t queued() const noexcept { return queued_.load(std::memory_order_relaxed); }
  std::uint64_t waitsTotal() const noexcept { return waits_total_.load(std::memory_order_relaxed); }
  std::uint64_t waitMillisTotal() const noexcept { return wait_ms_total_.load(std::memory_order_relaxed); }
  std::uint64_t overflowsTotal() const noexcept { return overflows_total_.load(std::memory_order_relaxed); }

 private:
  struct Grant {
    std::shared_ptr<Ticket> ticket;
    std::size_t index = 0;
  };
  // Under the lock: the oldest tickets take the free slots of `cluster`'s endpoints.
  std::vector<Grant> dispatchLocked(const ClusterSnapshot& cluster);
  // After the lock: each grant to its waiter's loop.
  void deliver(std::vector<Grant> grants, const std::shared_ptr<const ClusterSnapshot>& cluster);

  const std::uint32_t max_per_endpoint_;
  const std::uint32_t max_queue_;
  std::mutex mutex_;
  // Weak: the snapshot holds this Admission, and its monitor holds the snapshot.
  std::weak_ptr<const ClusterSnapshot> current_;
  std::deque<std::shared_ptr<Ticket>> queue_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::uint64_t> waits_total_{0};
  std::atomic<std::uint64_t> wait_ms_total_{0};
  std::atomic<std::uint64_t> overflows_total_{0};
};

}  // namespace fairlead::upstream

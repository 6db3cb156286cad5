#include "core/slab.hpp"

#include <sys/mman.h>

#include <mutex>
#include <utility>
#include <vector>

namespace fairlead::core::slab_detail {
namespace {

// Mapped, not malloc'ed: pages are touched only as slots are carved, and the blocks stay out of
// the heap whose fragmentation this is about.
constexpr std::size_t kBlockBytes = 256 * 1024;

struct Registry {
  std::mutex mutex;
  std::vector<std::size_t> slot_sizes;        // class id -> slot size
  std::vector<std::vector<Cache>> orphans;    // class id -> caches of ended threads
};

// Never destroyed: a thread may end (and hand its caches over) while statics are torn down.
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

// Hands this thread's caches to the registry when the thread ends.
struct ThreadCaches {
  std::vector<std::pair<Cache*, std::size_t>> caches;
  ~ThreadCaches() {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    for (auto [cache, id] : caches) {
      if (cache->free != nullptr || cache->next != cache->end) r.orphans[id].push_back(*cache);
      *cache = Cache{};  // a slot freed later still lands somewhere valid: this empty list
    }
  }
};

}  // namespace

std::size_t classId(std::size_t slot_size) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  for (std::size_t i = 0; i < r.slot_sizes.size(); ++i) {
    if (r.slot_sizes[i] == slot_size) return i;
  }
  r.slot_sizes.push_back(slot_size);
  r.orphans.emplace_back();
  return r.slot_sizes.size() - 1;
}

void adoptOrphan(Cache& cache, std::size_t class_id) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto& list = r.orphans[class_id];
  if (list.empty()) return;
  cache = list.back();
  list.pop_back();
}

void registerThreadExit(Cache& cache, std::size_t class_id) {
  thread_local ThreadCaches mine;
  mine.caches.emplace_back(&cache, class_id);
}

void* carve(Cache& cache, std::size_t slot_size, std::size_t class_id) {
  if (static_cast<std::size_t>(cache.end - cache.next) < slot_size) {
    adoptOrphan(cache, class_id);
    if (cache.free != nullptr) {
      void* slot = cache.free;
      cache.free = *static_cast<void**>(slot);
      return slot;
    }
  }
  if (static_cast<std::size_t>(cache.end - cache.next) < slot_size) {
    void* block = ::mmap(nullptr, kBlockBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                         -1, 0);
    if (block == MAP_FAILED) throw std::bad_alloc();
    cache.next = static_cast<char*>(block);
    cache.end = cache.next + kBlockBytes;
  }
  void* slot = cache.next;
  cache.next += slot_size;
  return slot;
}

}  // namespace fairlead::core::slab_detail

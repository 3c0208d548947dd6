// site_table.h: per-call-site contention counters, lock-free, in mmap'd memory.
//
// A site is one (stack, kind, lock name) triple: the return addresses of the
// code that waited for a lock (or, as a holder, made others wait), what kind
// of acquisition it was, and the hash of the lock's name when it has one.
// Sites live in one fixed-capacity open-addressing table that is mapped when
// recording starts and never freed or moved, so that the lock path and the
// exporter's scrape threads can both use it without locks:
//
//   - a slot's `key` goes 0 (empty) -> kKeyFilling (claimed by one inserter,
//     which copies the stack in) -> the site's hash (published, release);
//     it never changes again;
//   - every counter is a relaxed atomic: a scrape sees each counter exact,
//     and a record half-applied (count before sum) at worst for one scrape.
//
// When the table is full (or the probe sequence is), events go to the
// overflow site, slot 0, whose stack is empty; dropped_events counts them.
// Nothing in here allocates, locks, or calls libc.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lock_kind.h"
#include "wait_histogram.h"

namespace parklock {

inline constexpr int kMaxSiteDepth = 32;

struct Histogram {
  std::atomic<uint64_t> count{0};
  std::atomic<uint64_t> sum_ns{0};
  std::atomic<uint64_t> max_ns{0};
  std::atomic<uint64_t> buckets[kHistogramBuckets]{};

  void add(uint64_t ns);
};

struct Site {
  static constexpr uint64_t kKeyEmpty = 0;
  static constexpr uint64_t kKeyFilling = 1;

  std::atomic<uint64_t> key{kKeyEmpty};
  // Written once, by the inserter, before `key` is published.
  LockKind kind = LockKind::kMutex;
  uint8_t depth = 0;
  uint64_t name_hash = 0;  // 0: the lock had no name
  char name[48] = {};      // its name then, kept after the lock is gone
  uintptr_t lock = 0;      // the first lock seen here: labels an unnamed site
  uintptr_t pcs[kMaxSiteDepth] = {};

  Histogram wait;  // waits of acquisitions at this site
  Histogram hold;  // how long those acquisitions then held the lock
  // As a holder: the waiting its unlocks ended, summed over the waiters.
  std::atomic<uint64_t> caused_wait_ns{0};
  std::atomic<uint64_t> caused_wakeups{0};

  bool published() const { return key.load(std::memory_order_acquire) > kKeyFilling; }
};

// What the inserter knows about a new site.
struct SiteKey {
  LockKind kind;
  uint64_t name_hash;
  const char* name;  // "" when name_hash is 0
  uintptr_t lock;
  const uintptr_t* pcs;
  int depth;
};

class SiteTable {
 public:
  static constexpr size_t kOverflowSlot = 0;

  // Maps `capacity` slots (a power of two). False if the memory cannot be had.
  bool init(size_t capacity);
  bool ready() const { return sites_ != nullptr; }

  // The site for `key`, inserted if new; the overflow site if there is no room.
  Site& find_or_insert(const SiteKey& key);
  Site& overflow() { return sites_[kOverflowSlot]; }

  size_t capacity() const { return capacity_; }
  Site& slot(size_t i) { return sites_[i]; }
  // Sites in use, the overflow site not included.
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  uint64_t dropped_events() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  Site* sites_ = nullptr;
  size_t capacity_ = 0;
  std::atomic<size_t> used_{0};
  std::atomic<uint64_t> dropped_{0};
};

uint64_t site_hash(const SiteKey& key);

}  // namespace parklock

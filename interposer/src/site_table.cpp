#include "site_table.h"

#include <sys/mman.h>

#include "spin_wait.h"

namespace parklock {
namespace {

// How far an insert probes before the event goes to the overflow site.
constexpr size_t kMaxProbes = 64;

void atomic_max(std::atomic<uint64_t>& target, uint64_t value) {
  uint64_t current = target.load(std::memory_order_relaxed);
  while (value > current &&
         !target.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

bool same_site(const Site& site, const SiteKey& key) {
  if (site.kind != key.kind || site.name_hash != key.name_hash || site.depth != key.depth)
    return false;
  for (int i = 0; i < key.depth; ++i)
    if (site.pcs[i] != key.pcs[i]) return false;
  return true;
}

}  // namespace

void Histogram::add(uint64_t ns) {
  count.fetch_add(1, std::memory_order_relaxed);
  sum_ns.fetch_add(ns, std::memory_order_relaxed);
  buckets[histogram_bucket(ns)].fetch_add(1, std::memory_order_relaxed);
  atomic_max(max_ns, ns);
}

uint64_t site_hash(const SiteKey& key) {
  // FNV-1a over the words, then a final mix; 0 and 1 are reserved keys.
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&h](uint64_t v) {
    h ^= v;
    h *= 0x100000001b3ull;
  };
  mix(uint64_t(key.kind));
  mix(key.name_hash);
  for (int i = 0; i < key.depth; ++i) mix(key.pcs[i]);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h > Site::kKeyFilling ? h : h + 2;
}

bool SiteTable::init(size_t capacity) {
  void* mem = mmap(nullptr, capacity * sizeof(Site), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return false;
  // Fresh anonymous pages are zero: every slot is an empty site.
  sites_ = static_cast<Site*>(mem);
  capacity_ = capacity;
  sites_[kOverflowSlot].key.store(Site::kKeyFilling + 1, std::memory_order_release);
  return true;
}

Site& SiteTable::find_or_insert(const SiteKey& key) {
  const uint64_t h = site_hash(key);
  const size_t mask = capacity_ - 1;
  for (size_t probe = 0, i = h & mask; probe < kMaxProbes; ++probe, i = (i + 1) & mask) {
    if (i == kOverflowSlot) continue;
    Site& site = sites_[i];
    uint64_t k = site.key.load(std::memory_order_acquire);
    if (k == Site::kKeyEmpty) {
      if (site.key.compare_exchange_strong(k, Site::kKeyFilling, std::memory_order_acquire)) {
        site.kind = key.kind;
        site.name_hash = key.name_hash;
        for (size_t c = 0; c + 1 < sizeof site.name && key.name[c]; ++c) site.name[c] = key.name[c];
        site.lock = key.lock;
        site.depth = uint8_t(key.depth);
        for (int d = 0; d < key.depth; ++d) site.pcs[d] = key.pcs[d];
        site.key.store(h, std::memory_order_release);
        used_.fetch_add(1, std::memory_order_relaxed);
        return site;
      }
    }
    // Another inserter is copying its stack in: a few stores, unless it was
    // preempted; then it counts as a different site and we probe on.
    for (int spins = 0; k == Site::kKeyFilling && spins < 1000; ++spins) {
      cpu_relax();
      k = site.key.load(std::memory_order_acquire);
    }
    if (k == h && same_site(site, key)) return site;
  }
  dropped_.fetch_add(1, std::memory_order_relaxed);
  return overflow();
}

}  // namespace parklock

#include "lock_names.h"

#include <sys/mman.h>

#include <cstring>

#include "parklock.h"
#include "mutex_ops.h"
#include "raw_log.h"
#include "rwlock_ops.h"
#include "spin_wait.h"
#include "word_lock.h"

namespace parklock::lock_names {

std::atomic<bool> g_any_named{false};

namespace {

constexpr size_t kCapacityLog2 = 13;
constexpr size_t kCapacity = size_t(1) << kCapacityLog2;  // names past it are dropped
constexpr uintptr_t kEmpty = 0;
constexpr uintptr_t kRemoved = 1;  // a tombstone: probing continues past it

struct Entry {
  std::atomic<uintptr_t> key;
  std::atomic<uint32_t> seq;  // odd while `name` is being rewritten
  std::atomic<uint64_t> hash;
  char name[kMaxNameLength + 1];
  std::atomic<uint64_t> acquisitions[kLockKinds];  // reset when the entry is claimed
};

WordLock g_lock;                      // serializes writers
std::atomic<Entry*> g_entries{nullptr};  // mapped on first set
bool g_warned_full = false;           // guarded by g_lock

size_t slot_of(uintptr_t key) { return (key * 0x9E3779B97F4A7C15ull) >> (64 - kCapacityLog2); }

uint64_t hash_of(const char* name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *name; ++name) h = (h ^ uint8_t(*name)) * 0x100000001b3ull;
  return h ? h : 1;
}

// The entry holding `key`, or nullptr. Safe without g_lock.
Entry* find(Entry* entries, uintptr_t key) {
  if (!entries) return nullptr;
  for (size_t i = 0, s = slot_of(key); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    uintptr_t k = entries[s].key.load(std::memory_order_acquire);
    if (k == key) return &entries[s];
    if (k == kEmpty) return nullptr;
  }
  return nullptr;
}

// Under g_lock. A free entry for `key` (not yet published), or nullptr when full.
Entry* claim(uintptr_t key) {
  Entry* entries = g_entries.load(std::memory_order_relaxed);
  if (!entries) {
    void* mem = mmap(nullptr, kCapacity * sizeof(Entry), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    entries = static_cast<Entry*>(mem);
    g_entries.store(entries, std::memory_order_release);
  }
  for (size_t i = 0, s = slot_of(key); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    uintptr_t k = entries[s].key.load(std::memory_order_relaxed);
    if (k == kEmpty || k == kRemoved) return &entries[s];
  }
  return nullptr;
}

// Under g_lock: rewrites the text under the sequence count.
void write_name(Entry* entry, const char* name) {
  uint32_t seq = entry->seq.load(std::memory_order_relaxed);
  entry->seq.store(seq + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  size_t n = strnlen(name, kMaxNameLength);
  for (size_t i = 0; i < n; ++i)
    std::atomic_ref<char>(entry->name[i]).store(name[i], std::memory_order_relaxed);
  std::atomic_ref<char>(entry->name[n]).store('\0', std::memory_order_relaxed);
  entry->hash.store(hash_of(entry->name), std::memory_order_relaxed);
  entry->seq.store(seq + 2, std::memory_order_release);
}

}  // namespace

uint64_t read(const void* lock, char* out) {
  out[0] = '\0';
  Entry* entry = find(g_entries.load(std::memory_order_acquire), reinterpret_cast<uintptr_t>(lock));
  if (!entry) return 0;
  for (;;) {
    uint32_t before = entry->seq.load(std::memory_order_acquire);
    if (before & 1) {  // a writer is a few stores from done
      cpu_relax();
      continue;
    }
    for (size_t i = 0; i <= kMaxNameLength; ++i)
      out[i] = std::atomic_ref<char>(entry->name[i]).load(std::memory_order_relaxed);
    uint64_t hash = entry->hash.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (entry->seq.load(std::memory_order_relaxed) != before) continue;
    if (entry->key.load(std::memory_order_relaxed) != reinterpret_cast<uintptr_t>(lock)) {
      out[0] = '\0';  // cleared while we read
      return 0;
    }
    out[kMaxNameLength] = '\0';
    return hash;
  }
}

void count_acquisition(const void* lock, LockKind kind) {
  if (Entry* entry = find(g_entries.load(std::memory_order_acquire), reinterpret_cast<uintptr_t>(lock)))
    entry->acquisitions[int(kind)].fetch_add(1, std::memory_order_relaxed);
}

size_t read_counts(NamedLockCount* out, size_t max) {
  Entry* entries = g_entries.load(std::memory_order_acquire);
  if (!entries) return 0;
  size_t n = 0;
  for (size_t i = 0; i < kCapacity && n < max; ++i) {
    uintptr_t key = entries[i].key.load(std::memory_order_acquire);
    if (key == kEmpty || key == kRemoved) continue;
    NamedLockCount& c = out[n];
    uint64_t total = 0;
    for (int k = 0; k < kLockKinds; ++k) total += c.acquisitions[k] = entries[i].acquisitions[k].load(std::memory_order_relaxed);
    if (total == 0 || read(reinterpret_cast<const void*>(key), c.name) == 0) continue;
    ++n;
  }
  return n;
}

void forget(const void* lock) {
  uintptr_t key = reinterpret_cast<uintptr_t>(lock);
  g_lock.lock();
  if (Entry* entry = find(g_entries.load(std::memory_order_relaxed), key))
    entry->key.store(kRemoved, std::memory_order_release);
  g_lock.unlock();
}

}  // namespace parklock::lock_names

using namespace parklock;
using namespace parklock::lock_names;

extern "C" __attribute__((visibility("default"))) void parklock_set_name(const void* lock,
                                                                          const char* name) {
  uintptr_t key = reinterpret_cast<uintptr_t>(lock);
  if (key == kEmpty || key == kRemoved) return;
  if (name == nullptr) {
    forget(lock);
    return;
  }
  g_lock.lock();
  Entry* entry = find(g_entries.load(std::memory_order_relaxed), key);
  if (entry) {
    write_name(entry, name);
  } else if ((entry = claim(key))) {
    write_name(entry, name);
    for (auto& count : entry->acquisitions) count.store(0, std::memory_order_relaxed);
    entry->key.store(key, std::memory_order_release);  // publishes the text
    g_any_named.store(true, std::memory_order_relaxed);
  } else if (!g_warned_full) {
    g_warned_full = true;
    raw_log("parklock: lock-name table full; further names are ignored");
  }
  g_lock.unlock();
}

// Typed: the name, and a mark in the lock that makes its acquisitions count.
extern "C" __attribute__((visibility("default"))) void parklock_set_mutex_name(pthread_mutex_t* m, const char* name) {
  parklock_set_name(m, name);
  if (name) mutex_ops::mark_named(m);
}

extern "C" __attribute__((visibility("default"))) void parklock_set_rwlock_name(pthread_rwlock_t* rw,
                                                                                 const char* name) {
  parklock_set_name(rw, name);
  if (name) rwlock_ops::mark_named(rw);
}

extern "C" __attribute__((visibility("default"))) int parklock_get_name(const void* lock, char* buf,
                                                                         size_t size) {
  char name[kMaxNameLength + 1];
  if (read(lock, name) == 0) {
    if (size) buf[0] = '\0';
    return 0;
  }
  if (size) {
    size_t n = strnlen(name, size - 1);
    memcpy(buf, name, n);
    buf[n] = '\0';
  }
  return 1;
}

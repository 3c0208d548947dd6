// Lock names given with parklock_set_name: a fixed-capacity open-addressing
// table keyed by lock address, in memory from mmap (naming may happen inside
// malloc's own initialization, so no malloc here). Naming is rare and never
// on a lock path, so one WordLock guards the table.
#include <sys/mman.h>

#include <cstdint>
#include <cstring>

#include "parklock.h"
#include "raw_log.h"
#include "word_lock.h"

namespace parklock {
namespace {

constexpr size_t kCapacity = 8192;  // a power of two; names past it are dropped
constexpr size_t kMaxNameLength = 47;
constexpr uintptr_t kEmpty = 0;
constexpr uintptr_t kRemoved = 1;  // a tombstone: probing continues past it

struct Entry {
  uintptr_t key;
  char name[kMaxNameLength + 1];
};

WordLock g_lock;
Entry* g_entries = nullptr;  // guarded by g_lock; mapped on first use
bool g_warned_full = false;  // guarded by g_lock

size_t slot_of(uintptr_t key) { return (key * 0x9E3779B97F4A7C15ull) >> (64 - 13); }
static_assert(kCapacity == size_t(1) << 13);

// Under g_lock. The entry holding `key`, or nullptr.
Entry* find(uintptr_t key) {
  if (!g_entries) return nullptr;
  for (size_t i = 0, s = slot_of(key); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    if (g_entries[s].key == key) return &g_entries[s];
    if (g_entries[s].key == kEmpty) return nullptr;
  }
  return nullptr;
}

// Under g_lock. A free entry for `key`, or nullptr when the table is full.
Entry* insert(uintptr_t key) {
  if (!g_entries) {
    void* mem = mmap(nullptr, kCapacity * sizeof(Entry), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return nullptr;
    g_entries = static_cast<Entry*>(mem);
  }
  for (size_t i = 0, s = slot_of(key); i < kCapacity; ++i, s = (s + 1) & (kCapacity - 1)) {
    if (g_entries[s].key == kEmpty || g_entries[s].key == kRemoved) {
      g_entries[s].key = key;
      return &g_entries[s];
    }
  }
  return nullptr;
}

}  // namespace
}  // namespace parklock

using namespace parklock;

extern "C" __attribute__((visibility("default"))) void parklock_set_name(const void* lock,
                                                                          const char* name) {
  uintptr_t key = reinterpret_cast<uintptr_t>(lock);
  if (key == kEmpty || key == kRemoved) return;
  g_lock.lock();
  Entry* entry = find(key);
  if (name == nullptr) {
    if (entry) entry->key = kRemoved;
  } else {
    if (!entry) entry = insert(key);
    if (entry) {
      size_t n = strnlen(name, kMaxNameLength);
      memcpy(entry->name, name, n);
      entry->name[n] = '\0';
    } else if (!g_warned_full) {
      g_warned_full = true;
      raw_log("parklock: lock-name table full; further names are ignored");
    }
  }
  g_lock.unlock();
}

extern "C" __attribute__((visibility("default"))) const char* parklock_get_name(const void* lock) {
  g_lock.lock();
  Entry* entry = find(reinterpret_cast<uintptr_t>(lock));
  const char* name = entry ? entry->name : nullptr;
  g_lock.unlock();
  return name;
}

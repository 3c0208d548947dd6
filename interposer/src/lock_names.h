// lock_names.h: the names given with parklock_set_name, as the recorder and
// the exporter read them.
//
// A fixed-capacity open-addressing table keyed by lock address, in memory
// from mmap (naming may happen inside malloc's own initialization). Writers
// (set, clear) serialize on one WordLock: naming is rare. Readers take no
// lock: a slot's key is published after its text, and the text is read under
// a per-slot sequence count, so a reader sees a whole name or retries; the
// recorder reads a name on a contended acquisition, the exporter at scrapes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "lock_kind.h"

namespace parklock::lock_names {

inline constexpr size_t kMaxNameLength = 47;

// Any lock named yet: lets destroy skip the table in programs that name nothing.
extern std::atomic<bool> g_any_named;
inline bool any_named() { return g_any_named.load(std::memory_order_relaxed); }

// One acquisition of a named lock (a no-op if it has no name). Mutexes and
// rwlocks named through their typed setters carry a mark that sends their
// lock calls here; unnamed locks never come.
void count_acquisition(const void* lock, LockKind kind);

// What the exporter reads: every named lock's acquisitions by kind.
struct NamedLockCount {
  char name[kMaxNameLength + 1];
  uint64_t acquisitions[kLockKinds];
};
// Fills up to `max` entries with the named locks that were acquired at
// least once, and returns how many.
size_t read_counts(NamedLockCount* out, size_t max);

// Copies the name of `lock` into `out` (kMaxNameLength + 1 bytes) and returns
// its hash, never 0; returns 0 (and leaves `out` empty) if it has none.
uint64_t read(const void* lock, char* out);

// Forgets the name of `lock`.
void forget(const void* lock);
// The same for a lock being destroyed, at no cost while nothing was named.
inline void forget_on_destroy(const void* lock) {
  if (g_any_named.load(std::memory_order_relaxed)) forget(lock);
}

}  // namespace parklock::lock_names

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

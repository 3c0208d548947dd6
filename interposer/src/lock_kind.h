// lock_kind.h: what kind of acquisition a contention record describes.
#pragma once

#include <cstdint>

namespace parklock {

enum class LockKind : uint8_t {
  kMutex,
  kRwlockRead,
  kRwlockWrite,
  kCondvar,  // a condition-variable waiter that had to wait again for its mutex
};
inline constexpr int kLockKinds = 4;

// The `kind` label of the metrics.
inline const char* lock_kind_label(LockKind kind) {
  switch (kind) {
    case LockKind::kMutex: return "mutex";
    case LockKind::kRwlockRead: return "rwlock_read";
    case LockKind::kRwlockWrite: return "rwlock_write";
    case LockKind::kCondvar: return "condvar";
  }
  return "mutex";
}

}  // namespace parklock

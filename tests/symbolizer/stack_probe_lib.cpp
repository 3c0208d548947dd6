// Stands in for the preload: a shared object with stack_capture linked in,
// called like a lock slow path (exported entry, internal frames, capture).
#include <cstdint>

#include "stack_capture.h"

namespace {

__attribute__((noipa)) int record_contention(uintptr_t* pcs, int max_depth) {
  return parklock::stack_capture(pcs, max_depth, 0);
}

__attribute__((noipa)) int lock_slow_path(uintptr_t* pcs, int max_depth) {
  const int frames = record_contention(pcs, max_depth);
  __asm__ volatile("" ::: "memory");  // no tail call: keep this frame
  return frames;
}

}  // namespace

extern "C" __attribute__((visibility("default"))) bool stack_probe_init() {
  return parklock::stack_capture_init();
}

extern "C" __attribute__((visibility("default"), noipa)) int stack_probe_lock(uintptr_t* pcs,
                                                                              int max_depth) {
  const int frames = lock_slow_path(pcs, max_depth);
  __asm__ volatile("" ::: "memory");
  return frames;
}

// stack_capture.h: the caller's return addresses, for use inside lock code.
//
// libunwind (libunwind.so.8) is loaded with dlopen by stack_capture_init, so a
// program that asks for no recording never maps it. Addresses are captured
// raw; turning them into names happens later and elsewhere (symbolizer.h).
//
// What runs on the capture path (measured on libunwind 1.6.2, see
// symbolizer/README.md and tests/symbolizer/stack_capture_alloc_test.cpp):
//   - A thread whose libunwind state is ready (see below) walks with
//     libunwind's fast trace. When every return address on the stack has been
//     seen by this thread before, that is loads from the stack and a
//     per-thread hash table: no lock, no allocation, no system call.
//   - A return address new to the thread costs one DWARF step, which takes
//     libunwind's own internal mutexes (pthread_mutex_lock; under the preload
//     those are parking locks) with all signals blocked. They are leaf locks:
//     libunwind calls nothing that could wait on another lock while holding
//     them. Never call stack_capture with a parking-lot bucket locked.
//   - A thread is made ready by its first fast trace, which allocates: glibc
//     mallocs libunwind's thread-local block on first touch, and libunwind
//     maps a 256 KiB frame cache. So that allocation happens outside lock
//     code only: stack_capture_init readies the calling thread,
//     stack_capture_thread_init readies any other; and when the process
//     allocates with glibc's malloc (which takes no pthread lock, so it cannot
//     wait on the lock being recorded), stack_capture readies a thread on its
//     first capture. Otherwise an unready thread walks with plain unw_step
//     (no thread-local state, no allocation; slower, and it takes libunwind's
//     internal mutexes at every frame).
//   - A capture entered again on the same thread (a signal handler, or the
//     slow path of one of libunwind's own mutexes being recorded) returns 0
//     frames instead of re-entering libunwind.
#pragma once

#include <cstdint>

namespace parklock {

inline constexpr int kMaxStackDepth = 64;

// Loads libunwind and readies the calling thread. Call once at process start,
// outside any lock (it calls dlopen and allocates). Returns false, and every
// capture then returns 0 frames, when libunwind cannot be loaded. Idempotent;
// safe to call from several threads.
bool stack_capture_init();

// Readies the calling thread for the fast trace (see above). Call at thread
// start, outside any lock; a no-op when already ready or when
// stack_capture_init failed or has not run. Returns whether the thread is
// ready.
bool stack_capture_thread_init();

// Fills `pcs` with up to `max_depth` (at most kMaxStackDepth) return addresses
// of the caller's stack, innermost first: pcs[0] is in the function that
// called stack_capture, unless frames are skipped. First `skip` frames are
// dropped, then every further frame inside the shared object that contains
// stack_capture, when that object is not the main executable (under the
// preload, pcs[0] is then the user's call into pthread_mutex_lock). Returns
// the number of addresses written. Safe in lock code; see above.
int stack_capture(uintptr_t* pcs, int max_depth, int skip);

}  // namespace parklock

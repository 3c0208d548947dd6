// known_sites.h: functions of the test executable that capture their own
// stack at a line they record, and variables with known names.
#pragma once

#include <pthread.h>

#include <cstdint>
#include <mutex>

#include "stack_capture.h"

struct Capture {
  int frames = 0;
  uintptr_t pcs[parklock::kMaxStackDepth] = {};
  int line = 0;  // __LINE__ of the call whose return address is pcs[0]
};

namespace known {

struct Site {
  // Captures here: pcs[0] is in known::Site::capture(int).
  static Capture capture(int max_depth);
};

// Calls a helper that captures with skip = 1: pcs[0] is back in this function,
// at `line`.
Capture capture_skipping_helper();

// Captures inside an always-inline helper from another header: `line` is the
// helper's call in this function.
Capture capture_through_inlined_helper();

// Calls a function with internal linkage that captures; `line` is in it.
Capture capture_in_internal_function();

// Calls std::call_once with a lambda that captures with skip = 1: the first
// frames are std::call_once's machinery (<mutex>, libstdc++.so, libc's
// pthread_once), then this function, at `line`.
Capture capture_through_call_once();

// Calls stack_probe_lock, a stand-in for the preload's lock slow path.
Capture lock_through_probe_library();

extern std::mutex g_table_mutex;

// The address of a file-static pthread_mutex_t named g_something_mutex.
const void* something_mutex();

// The address of `m`, a static local of this function.
const void* function_local_static_mutex();

}  // namespace known

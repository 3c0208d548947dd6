#include "known_sites.h"

#include "inlined_helper.h"

extern "C" int stack_probe_lock(uintptr_t* pcs, int max_depth);

static pthread_mutex_t g_something_mutex = PTHREAD_MUTEX_INITIALIZER;

namespace known {

std::mutex g_table_mutex;

namespace {

__attribute__((noipa)) int helper_skipped(Capture& capture) {
  const int frames = parklock::stack_capture(capture.pcs, 8, 1);
  __asm__ volatile("" ::: "memory");  // no tail call: keep this frame
  return frames;
}

}  // namespace

static __attribute__((noipa)) Capture internal_function() {
  Capture capture;
  capture.line = (capture.frames = parklock::stack_capture(capture.pcs, 8, 0), __LINE__);
  return capture;
}

__attribute__((noipa)) Capture Site::capture(int max_depth) {
  Capture capture;
  capture.line = (capture.frames = parklock::stack_capture(capture.pcs, max_depth, 0), __LINE__);
  return capture;
}

__attribute__((noipa)) Capture capture_skipping_helper() {
  Capture capture;
  capture.line = (capture.frames = helper_skipped(capture), __LINE__);
  return capture;
}

__attribute__((noipa)) Capture capture_through_inlined_helper() {
  Capture capture;
  capture.line = (capture.frames = capture_inline(capture.pcs, 8), __LINE__);
  return capture;
}

__attribute__((noipa)) Capture capture_in_internal_function() {
  Capture capture = internal_function();
  __asm__ volatile("" ::: "memory");
  return capture;
}

__attribute__((noipa)) Capture capture_through_call_once() {
  Capture capture;
  const auto body = [&capture]() __attribute__((noinline)) {
    capture.frames = parklock::stack_capture(capture.pcs, 8, 1);
    __asm__ volatile("" ::: "memory");
  };
  std::once_flag once;
  capture.line = (std::call_once(once, body), __LINE__);
  return capture;
}

__attribute__((noipa)) Capture lock_through_probe_library() {
  Capture capture;
  capture.line = (capture.frames = stack_probe_lock(capture.pcs, 8), __LINE__);
  return capture;
}

const void* something_mutex() { return &g_something_mutex; }

__attribute__((noipa)) const void* function_local_static_mutex() {
  static std::mutex m;
  return &m;
}

}  // namespace known

// inlined_helper.h: a capture inlined into its caller, so the instruction
// after the call lies in this header's line, in the caller's code.
#pragma once

#include "stack_capture.h"

__attribute__((always_inline)) inline int capture_inline(uintptr_t* pcs, int max_depth) {
  return parklock::stack_capture(pcs, max_depth, 0);
}

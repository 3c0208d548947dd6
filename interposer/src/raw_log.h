// raw_log.h: diagnostics that are safe inside lock code.
//
// They format nothing and allocate nothing: the pieces go to stderr with one
// write(2) each (a message may interleave with another thread's; it is never
// lost or garbled within a piece). stdio would take a lock, maybe ours.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace parklock {

template <typename... Pieces>
void raw_log(const Pieces*... pieces) {
  (void)((::write(STDERR_FILENO, pieces, std::strlen(pieces)) , ...));
  (void)::write(STDERR_FILENO, "\n", 1);
}

// For states that cannot happen unless memory was corrupted or the program
// broke a rule that leaves no correct way on.
template <typename... Pieces>
[[noreturn]] void raw_fatal(const Pieces*... pieces) {
  raw_log(pieces...);
  std::abort();
}

}  // namespace parklock

// Checked in every build: an impossible state.
#define PARKLOCK_CHECK(cond)                                                          \
  do {                                                                                \
    if (__builtin_expect(!(cond), 0))                                                 \
      ::parklock::raw_fatal("parklock: check failed: " #cond " at " __FILE__ ":",     \
                            PARKLOCK_STRINGIFY(__LINE__));                            \
  } while (0)
#define PARKLOCK_STRINGIFY_(x) #x
#define PARKLOCK_STRINGIFY(x) PARKLOCK_STRINGIFY_(x)

// Checked in debug builds only: a state transition on a hot path.
#ifdef NDEBUG
#define PARKLOCK_DCHECK(cond) ((void)0)
#else
#define PARKLOCK_DCHECK(cond) PARKLOCK_CHECK(cond)
#endif

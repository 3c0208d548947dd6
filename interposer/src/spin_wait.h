// spin_wait.h: the bounded spin before a thread parks.
//
// Spinning pays when the holder is running on another core and about to
// release; it wastes a core when the holder was preempted. So a waiter spins
// a little, with exponentially growing pauses, then yields a few times, and
// after kSpinRounds gives up and parks. Locks skip spinning entirely once a
// thread is parked on them: the queue says the lock is held for long.
#pragma once

#include <sched.h>

namespace parklock {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class SpinWait {
 public:
  // Rounds 1..kPauseRounds pause 2, 4, ... 2^kPauseRounds times (~1.5 us on
  // x86 in all at ~40-140 cycles a pause); the rest yield the core.
  static constexpr int kPauseRounds = 4;
  static constexpr int kSpinRounds = 10;

  // Spins once more; false once the budget is spent and the caller should park.
  bool spin() {
    if (round_ >= kSpinRounds) return false;
    ++round_;
    if (round_ <= kPauseRounds) {
      for (int i = 0; i < (1 << round_); ++i) cpu_relax();
    } else {
      sched_yield();
    }
    return true;
  }

  void reset() { round_ = 0; }

 private:
  int round_ = 0;
};

}  // namespace parklock

// parked_rounds.h: contention that certainly happened, for the test programs.
//
// The caller holds a mutex while a waiter thread calls code that locks it,
// and lets go only once that thread is asleep in the kernel (/proc says 'S'
// after the waiter said it was about to lock): each such lock call parked,
// so a correct recorder has recorded exactly one wait for it. One waiter at
// a time keeps that exact: two waiters could meet on a lock inside the
// unwinder and look asleep before they reach ours.
#pragma once

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace parked_rounds {

// The scheduler state of one of our threads ('R', 'S', ...), '?' if unknown.
inline char thread_state(pid_t tid) {
  std::ifstream stat("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() ? '?' : text[paren + 2];
}

// Runs waiter_call(1..rounds) on one waiter thread, each call while this
// thread holds `m`, released once the waiter is asleep. Returns the rounds in
// which the waiter never fell asleep within 30 s (0 unless the machine is
// stalled; the caller reports them, since those waits may not have parked).
// The waiter waits for its turn on atomics (futexes, not pthread locks), so
// that nothing else contends.
inline int run(pthread_mutex_t* m, int rounds, const std::function<void(int round)>& waiter_call) {
  std::atomic<int> go{0}, arrived{0}, done{0};
  std::atomic<pid_t> waiter_tid{0};
  std::thread waiter([&] {
    waiter_tid = gettid();
    for (int r = 1; r <= rounds; ++r) {
      for (int seen = go.load(); seen < r; seen = go.load()) go.wait(seen);
      arrived.store(r);
      waiter_call(r);
      done.store(r);
      done.notify_one();
    }
  });
  while (!waiter_tid.load()) std::this_thread::yield();
  int late = 0;
  for (int r = 1; r <= rounds; ++r) {
    pthread_mutex_lock(m);
    go.store(r);
    go.notify_one();
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!(arrived.load() == r && thread_state(waiter_tid) == 'S')) {
      if (std::chrono::steady_clock::now() > give_up) {
        ++late;
        break;
      }
      std::this_thread::yield();
    }
    pthread_mutex_unlock(m);
    for (int seen = done.load(); seen < r; seen = done.load()) done.wait(seen);
  }
  waiter.join();
  return late;
}

}  // namespace parked_rounds

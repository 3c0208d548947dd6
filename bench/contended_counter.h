// contended_counter.h: the contended mutex workload of mutex_bench, shared
// with contention_overhead_bench.
//
// N threads; the critical section updates 4 shared cache lines, then each
// thread does ~250 ns of private arithmetic. Reports acquisitions/s over a
// fixed window (acq_per_s), and fairness = max/min acquisitions per thread
// (1 = perfectly even), and returns how many acquisitions it made in all.
// Register with Iterations(1) and UseManualTime().
#pragma once

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include <benchmark/benchmark.h>

#include "lock_bench_util.h"

namespace lockbench {

// The shared data a critical section touches: four separate cache lines.
struct alignas(64) Line {
  uint64_t value = 0;
};

struct alignas(64) PerThread {
  uint64_t acquisitions = 0;
};

// The "useful work" between acquisitions: a dependent xorshift chain of 150
// steps. On the 2-core AMD EPYC dev machine one thread does ~3.8 M
// lock + critical section + work iterations/s (bench/RESULTS.md), so this is
// ~250 ns a call.
inline uint64_t LocalWork(uint64_t x) {
  for (int i = 0; i < 150; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

// One window of the workload on `m`.
struct CounterWindow {
  double seconds = 0;
  uint64_t acquisitions = 0;
  double fairness = 1;
  bool excluded = true;  // false: an update was lost, the lock did not exclude
};

template <typename Locks>
CounterWindow RunCounterWindow(pthread_mutex_t* m, int threads, std::chrono::milliseconds window) {
  Line lines[4];
  std::vector<PerThread> per_thread(threads);
  std::atomic<bool> stop{false};
  CounterWindow out;
  out.seconds = lockbench::RunTeam(
      threads,
      [&](int t) {
        uint64_t x = t + 1;
        uint64_t mine = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          Locks::lock(m);
          for (auto& l : lines) ++l.value;
          Locks::unlock(m);
          ++mine;
          x = LocalWork(x);
        }
        benchmark::DoNotOptimize(x);
        per_thread[t].acquisitions = mine;
      },
      &stop, window);
  uint64_t most = 0, least = UINT64_MAX;
  for (const auto& p : per_thread) {
    out.acquisitions += p.acquisitions;
    most = std::max(most, p.acquisitions);
    least = std::min(least, p.acquisitions);
  }
  for (const auto& l : lines) out.excluded &= l.value == out.acquisitions;
  // A thread that never got the lock makes the ratio infinite; count it as
  // one acquisition so the number stays printable (and still huge).
  out.fairness = double(most) / double(std::max<uint64_t>(least, 1));
  return out;
}

template <typename Locks>
uint64_t ContendedCounter(benchmark::State& state, int threads, std::chrono::milliseconds window) {
  pthread_mutex_t m;
  Locks::mutex_init(&m);
  double seconds_total = 0;
  uint64_t acquisitions_total = 0;
  double worst_fairness = 1;
  for (auto _ : state) {
    const CounterWindow run = RunCounterWindow<Locks>(&m, threads, window);
    state.SetIterationTime(run.seconds);
    if (!run.excluded) state.SkipWithError("lost update: the lock did not exclude");
    seconds_total += run.seconds;
    acquisitions_total += run.acquisitions;
    worst_fairness = std::max(worst_fairness, run.fairness);
  }
  Locks::mutex_destroy(&m);
  state.counters["acq_per_s"] = acquisitions_total / seconds_total;
  state.counters["fairness"] = worst_fairness;
  return acquisitions_total;
}

}  // namespace lockbench

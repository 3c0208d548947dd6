// mutex_bench: glibc's and parklock's mutex side by side, same workload, one
// process. Ends with a table of parklock/glibc ratios.
//
//   uncontended   lock+unlock pairs on one thread (time per pair), first in a
//                 process that has never had a second thread (glibc and
//                 parklock both skip atomics then), then in one that has
//                 (as any server: both pay one atomic each way)
//   contended     N threads; the critical section updates 4 shared cache
//                 lines, then each thread does ~250 ns of private arithmetic;
//                 acquisitions/s over a fixed window, and fairness =
//                 max/min acquisitions per thread (1 = perfectly even)
//
// Flags (besides Google Benchmark's):
//   --threads=1,2,4,8,16   contended thread counts
//   --duration_ms=250      length of one contended window
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "lock_bench_util.h"

namespace {

using lockbench::GlibcLocks;
using lockbench::ParklockLocks;

template <typename Locks>
void Uncontended(benchmark::State& state) {
  pthread_mutex_t m;
  Locks::mutex_init(&m);
  for (auto _ : state) {
    Locks::lock(&m);
    Locks::unlock(&m);
  }
  Locks::mutex_destroy(&m);
}

// glibc's __libc_single_threaded turns false for good once a second thread
// has existed; this runs after the single-threaded rows.
template <typename Locks>
void UncontendedThreadedProcess(benchmark::State& state) {
  std::thread([] {}).join();
  Uncontended<Locks>(state);
}

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

template <typename Locks>
void Contended(benchmark::State& state, int threads, std::chrono::milliseconds window) {
  pthread_mutex_t m;
  Locks::mutex_init(&m);
  Line lines[4];
  std::vector<PerThread> per_thread(threads);
  double seconds_total = 0;
  uint64_t acquisitions_total = 0;
  double worst_fairness = 1;
  for (auto _ : state) {
    std::atomic<bool> stop{false};
    for (auto& p : per_thread) p.acquisitions = 0;
    for (auto& l : lines) l.value = 0;
    const double seconds = lockbench::RunTeam(
        threads,
        [&](int t) {
          uint64_t x = t + 1;
          uint64_t mine = 0;
          while (!stop.load(std::memory_order_relaxed)) {
            Locks::lock(&m);
            for (auto& l : lines) ++l.value;
            Locks::unlock(&m);
            ++mine;
            x = LocalWork(x);
          }
          benchmark::DoNotOptimize(x);
          per_thread[t].acquisitions = mine;
        },
        &stop, window);
    state.SetIterationTime(seconds);
    uint64_t sum = 0, most = 0, least = UINT64_MAX;
    for (const auto& p : per_thread) {
      sum += p.acquisitions;
      most = std::max(most, p.acquisitions);
      least = std::min(least, p.acquisitions);
    }
    for (const auto& l : lines) {
      if (l.value != sum) {
        state.SkipWithError("lost update: the lock did not exclude");
        break;
      }
    }
    seconds_total += seconds;
    acquisitions_total += sum;
    // A thread that never got the lock makes the ratio infinite; count it as
    // one acquisition so the number stays printable (and still huge).
    worst_fairness = std::max(worst_fairness, double(most) / double(std::max<uint64_t>(least, 1)));
  }
  Locks::mutex_destroy(&m);
  state.counters["acq_per_s"] = acquisitions_total / seconds_total;
  state.counters["fairness"] = worst_fairness;
}

template <typename Locks>
void RegisterContended(int threads, std::chrono::milliseconds window) {
  const std::string name =
      std::string("mutex/contended/") + Locks::kName + "/threads:" + std::to_string(threads);
  benchmark::RegisterBenchmark(name.c_str(), Contended<Locks>, threads, window)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> thread_counts =
      lockbench::TakeIntListFlag(&argc, argv, "threads", {1, 2, 4, 8, 16});
  const std::chrono::milliseconds window(lockbench::TakeIntFlag(&argc, argv, "duration_ms", 250));

  benchmark::RegisterBenchmark("mutex/uncontended/glibc", Uncontended<GlibcLocks>);
  benchmark::RegisterBenchmark("mutex/uncontended/parklock", Uncontended<ParklockLocks>);
  benchmark::RegisterBenchmark("mutex/uncontended_threaded_process/glibc",
                               UncontendedThreadedProcess<GlibcLocks>);
  benchmark::RegisterBenchmark("mutex/uncontended_threaded_process/parklock",
                               UncontendedThreadedProcess<ParklockLocks>);
  for (int threads : thread_counts) {
    RegisterContended<GlibcLocks>(threads, window);
    RegisterContended<ParklockLocks>(threads, window);
  }
  return lockbench::RunAll(argc, argv);
}

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

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "contended_counter.h"
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

template <typename Locks>
void RegisterContended(int threads, std::chrono::milliseconds window) {
  const std::string name =
      std::string("mutex/contended/") + Locks::kName + "/threads:" + std::to_string(threads);
  benchmark::RegisterBenchmark(name.c_str(), lockbench::ContendedCounter<Locks>, threads, window)
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

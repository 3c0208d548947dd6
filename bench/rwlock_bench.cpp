// rwlock_bench: glibc's and parklock's reader-writer locks side by side, same
// workload, one process, ending with a table of parklock/glibc ratios.
//
// Each run starts N threads together on one default (reader-preferring)
// rwlock for a fixed time. Every operation is a read (sums a small guarded
// table) or, with the given percentage, a write (updates it), followed by a
// little work outside the lock. Counters per row:
//   ops_per_s            all operations of all threads per second
//   fairness_max_min     most / fewest operations done by one thread (1 = even)
//   wr_wait_mean_us      mean time a writer spent in wrlock
//   wr_wait_max_us       the longest one
//
// Flags (besides Google Benchmark's):
//   --threads=1,2,4,8,16   thread counts
//   --run_ms=250           length of each run
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "lock_bench_util.h"
#include "parklock.h"

namespace {

struct GlibcRw {
  static constexpr const char* kName = "glibc";
  static int rdlock(pthread_rwlock_t* rw) { return pthread_rwlock_rdlock(rw); }
  static int wrlock(pthread_rwlock_t* rw) { return pthread_rwlock_wrlock(rw); }
  static int unlock(pthread_rwlock_t* rw) { return pthread_rwlock_unlock(rw); }
};

struct ParklockRw {
  static constexpr const char* kName = "parklock";
  static int rdlock(pthread_rwlock_t* rw) { return parklock_rwlock_rdlock(rw); }
  static int wrlock(pthread_rwlock_t* rw) { return parklock_rwlock_wrlock(rw); }
  static int unlock(pthread_rwlock_t* rw) { return parklock_rwlock_unlock(rw); }
};

uint64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000u + uint64_t(t.tv_nsec);
}

// Per-thread results, each on its own cache line.
struct alignas(64) ThreadStats {
  uint64_t ops = 0;
  uint64_t writes = 0;
  uint64_t write_wait_ns = 0;
  uint64_t write_wait_max_ns = 0;
};

struct Guarded {
  pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
  alignas(64) uint64_t table[8] = {};  // guarded by rw
};

long g_run_ms = 250;

template <typename Rw>
void BM_RwMix(benchmark::State& state, int threads, int write_percent) {
  for (auto _ : state) {
    Guarded g;
    std::vector<ThreadStats> stats(static_cast<size_t>(threads));
    std::atomic<bool> stop{false};
    const double seconds = lockbench::RunTeam(
        threads,
        [&](int t) {
          ThreadStats& s = stats[size_t(t)];
          uint64_t x = 0x9E3779B97F4A7C15ull * uint64_t(t + 1);
          uint64_t sink = 0;
          while (!stop.load(std::memory_order_relaxed)) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (x % 100 < uint64_t(write_percent)) {
              const uint64_t start = now_ns();
              Rw::wrlock(&g.rw);
              const uint64_t waited = now_ns() - start;
              for (uint64_t& v : g.table) v += x;
              Rw::unlock(&g.rw);
              ++s.writes;
              s.write_wait_ns += waited;
              s.write_wait_max_ns = std::max(s.write_wait_max_ns, waited);
            } else {
              Rw::rdlock(&g.rw);
              for (uint64_t v : g.table) sink += v;
              Rw::unlock(&g.rw);
            }
            ++s.ops;
            // Work outside the lock, so that threads do not only contend.
            for (int i = 0; i < 32; ++i) sink = sink * 6364136223846793005ull + 1;
            benchmark::DoNotOptimize(sink);
          }
        },
        &stop, std::chrono::milliseconds(g_run_ms));
    state.SetIterationTime(seconds);

    uint64_t ops = 0, writes = 0, wait_ns = 0, wait_max_ns = 0;
    uint64_t most = 0, fewest = UINT64_MAX;
    for (const ThreadStats& s : stats) {
      ops += s.ops;
      writes += s.writes;
      wait_ns += s.write_wait_ns;
      wait_max_ns = std::max(wait_max_ns, s.write_wait_max_ns);
      most = std::max(most, s.ops);
      fewest = std::min(fewest, s.ops);
    }
    state.counters["ops_per_s"] = double(ops) / seconds;
    state.counters["fairness_max_min"] = fewest ? double(most) / double(fewest) : 0.0;
    state.counters["wr_wait_mean_us"] = writes ? double(wait_ns) / double(writes) / 1e3 : 0.0;
    state.counters["wr_wait_max_us"] = double(wait_max_ns) / 1e3;
  }
}

template <typename Rw>
void Register(const char* mix, int write_percent, int threads) {
  const std::string name = std::string("rwlock/") + mix + "/" + Rw::kName + "/threads:" +
                           std::to_string(threads);
  benchmark::RegisterBenchmark(name.c_str(), [threads, write_percent](benchmark::State& s) {
    BM_RwMix<Rw>(s, threads, write_percent);
  })->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> threads =
      lockbench::TakeIntListFlag(&argc, argv, "threads", {1, 2, 4, 8, 16});
  g_run_ms = lockbench::TakeIntFlag(&argc, argv, "run_ms", 250);
  struct Mix {
    const char* name;
    int write_percent;
  };
  for (Mix mix : {Mix{"read_mostly_95_5", 5}, Mix{"write_heavy_50_50", 50}}) {
    for (int n : threads) {
      Register<GlibcRw>(mix.name, mix.write_percent, n);
      Register<ParklockRw>(mix.name, mix.write_percent, n);
    }
  }
  return lockbench::RunAll(argc, argv);
}

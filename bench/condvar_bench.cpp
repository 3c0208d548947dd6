// condvar_bench: glibc's and parklock's condition variables (each with its
// own mutex) side by side, same workload, one process. Ends with a table of
// parklock/glibc ratios.
//
//   producer_consumer  P producers and P consumers through a bounded queue
//                      (16 slots, one mutex, not_full / not_empty condvars,
//                      signal on every push and pop): items/s
//   ping_pong          two threads hand a turn back and forth through one
//                      mutex and one condvar: round trips/s
//
// Flags (besides Google Benchmark's):
//   --pairs=1,2,4,8        producer+consumer pairs
//   --items=100000         items per producer_consumer run
//   --round_trips=20000    round trips per ping_pong run
#include <pthread.h>

#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "lock_bench_util.h"

namespace {

using lockbench::GlibcLocks;
using lockbench::ParklockLocks;

template <typename Locks>
class BoundedQueue {
 public:
  BoundedQueue() {
    Locks::mutex_init(&m_);
    Locks::cond_init(&not_full_);
    Locks::cond_init(&not_empty_);
  }
  ~BoundedQueue() {
    Locks::cond_destroy(&not_empty_);
    Locks::cond_destroy(&not_full_);
    Locks::mutex_destroy(&m_);
  }

  void Push(uint64_t item) {
    Locks::lock(&m_);
    while (size_ == kCapacity) Locks::wait(&not_full_, &m_);
    ring_[(head_ + size_) % kCapacity] = item;
    ++size_;
    Locks::signal(&not_empty_);
    Locks::unlock(&m_);
  }

  // Pops one item into *item; false once `total` items have been popped by
  // all consumers together.
  bool Pop(uint64_t total, uint64_t* item) {
    Locks::lock(&m_);
    while (size_ == 0 && popped_ < total) Locks::wait(&not_empty_, &m_);
    if (popped_ == total) {
      Locks::unlock(&m_);
      return false;
    }
    *item = ring_[head_];
    head_ = (head_ + 1) % kCapacity;
    --size_;
    // The last item releases every other consumer still waiting.
    if (++popped_ == total) Locks::broadcast(&not_empty_);
    Locks::signal(&not_full_);
    Locks::unlock(&m_);
    return true;
  }

 private:
  static constexpr int kCapacity = 16;
  pthread_mutex_t m_;
  pthread_cond_t not_full_;
  pthread_cond_t not_empty_;
  uint64_t ring_[kCapacity];  // guarded by m_
  int head_ = 0;              // guarded by m_
  int size_ = 0;              // guarded by m_
  uint64_t popped_ = 0;       // guarded by m_
};

template <typename Locks>
void ProducerConsumer(benchmark::State& state, int pairs, long items) {
  const uint64_t per_producer = items / pairs;
  const uint64_t total = per_producer * pairs;
  double seconds_total = 0;
  for (auto _ : state) {
    BoundedQueue<Locks> queue;
    std::vector<uint64_t> sums(2 * pairs, 0);
    const double seconds = lockbench::RunTeam(2 * pairs, [&](int t) {
      if (t < pairs) {
        for (uint64_t i = 0; i < per_producer; ++i) queue.Push(t * per_producer + i + 1);
      } else {
        uint64_t item, sum = 0;
        while (queue.Pop(total, &item)) sum += item;
        sums[t] = sum;
      }
    });
    state.SetIterationTime(seconds);
    seconds_total += seconds;
    uint64_t sum = 0;
    for (uint64_t s : sums) sum += s;
    if (sum != total * (total + 1) / 2) state.SkipWithError("items lost or duplicated");
  }
  state.counters["items_per_s"] = double(total) * state.iterations() / seconds_total;
}

template <typename Locks>
void PingPong(benchmark::State& state, long round_trips) {
  double seconds_total = 0;
  for (auto _ : state) {
    pthread_mutex_t m;
    pthread_cond_t c;
    Locks::mutex_init(&m);
    Locks::cond_init(&c);
    int turn = 0;  // guarded by m
    const double seconds = lockbench::RunTeam(2, [&](int me) {
      Locks::lock(&m);
      for (long i = 0; i < round_trips; ++i) {
        while (turn != me) Locks::wait(&c, &m);
        turn = 1 - me;
        Locks::signal(&c);
      }
      Locks::unlock(&m);
    });
    Locks::cond_destroy(&c);
    Locks::mutex_destroy(&m);
    state.SetIterationTime(seconds);
    seconds_total += seconds;
  }
  state.counters["round_trips_per_s"] = double(round_trips) * state.iterations() / seconds_total;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> pairs = lockbench::TakeIntListFlag(&argc, argv, "pairs", {1, 2, 4, 8});
  const long items = lockbench::TakeIntFlag(&argc, argv, "items", 100000);
  const long round_trips = lockbench::TakeIntFlag(&argc, argv, "round_trips", 20000);

  for (int p : pairs) {
    const std::string suffix = "/pairs:" + std::to_string(p);
    benchmark::RegisterBenchmark(("condvar/producer_consumer/glibc" + suffix).c_str(),
                                 ProducerConsumer<GlibcLocks>, p, items)
        ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("condvar/producer_consumer/parklock" + suffix).c_str(),
                                 ProducerConsumer<ParklockLocks>, p, items)
        ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  }
  benchmark::RegisterBenchmark("condvar/ping_pong/glibc", PingPong<GlibcLocks>, round_trips)
      ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("condvar/ping_pong/parklock", PingPong<ParklockLocks>, round_trips)
      ->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
  return lockbench::RunAll(argc, argv);
}

// std::condition_variable (wait, wait_for, wait_until on steady_clock and
// system_clock) and std::condition_variable_any, with results fixed by the
// program: FIFO order through one queue, commutative checksums across many.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

// A bounded queue; the wait style is chosen per call so every std::
// condition_variable entry point carries real traffic.
class Queue {
 public:
  enum class Style { kWait, kWaitFor, kWaitUntilSteady, kWaitUntilSystem };

  void push(uint64_t v, Style style) {
    std::unique_lock<std::mutex> g(m_);
    wait(not_full_, g, style, [&] { return items_.size() < kCapacity; });
    items_.push_back(v);
    g.unlock();
    not_empty_.notify_one();
  }

  uint64_t pop(Style style) {
    std::unique_lock<std::mutex> g(m_);
    wait(not_empty_, g, style, [&] { return !items_.empty(); });
    const uint64_t v = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

 private:
  static constexpr size_t kCapacity = 8;

  // Short timeouts on purpose: they expire often, and the loops retry.
  template <typename Pred>
  static void wait(std::condition_variable& cv, std::unique_lock<std::mutex>& g, Style style,
                   Pred ready) {
    switch (style) {
      case Style::kWait:
        cv.wait(g, ready);
        break;
      case Style::kWaitFor:
        while (!cv.wait_for(g, 1ms, ready)) {
        }
        break;
      case Style::kWaitUntilSteady:
        while (!cv.wait_until(g, std::chrono::steady_clock::now() + 1ms, ready)) {
        }
        break;
      case Style::kWaitUntilSystem:
        while (!cv.wait_until(g, std::chrono::system_clock::now() + 1ms, ready)) {
        }
        break;
    }
  }

  std::mutex m_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<uint64_t> items_;  // guarded by m_
};

// One producer, one consumer: the consumer sees the exact produced sequence.
void ordered_stream() {
  constexpr int kItems = 100000;
  Queue q;
  uint64_t rolling = 0;
  std::thread consumer([&] {
    for (int i = 0; i < kItems; ++i) {
      rolling = rolling * 1000003 + q.pop(static_cast<Queue::Style>(i % 4));
    }
  });
  for (int i = 0; i < kItems; ++i) q.push(mix(i), static_cast<Queue::Style>((i / 7) % 4));
  consumer.join();
  std::printf("ordered stream of %d items, rolling hash %016llx\n", kItems,
              static_cast<unsigned long long>(rolling));
}

// Many producers and consumers: the multiset of items is fixed.
void many_to_many() {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  constexpr int kPerProducer = 20000;
  constexpr uint64_t kStop = ~0ull;
  Queue q;
  std::vector<uint64_t> sums(kConsumers, 0), xors(kConsumers, 0), counts(kConsumers, 0);
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0;; ++i) {
        const uint64_t v = q.pop(static_cast<Queue::Style>((i + c) % 4));
        if (v == kStop) return;
        sums[c] += v;
        xors[c] ^= mix(v);
        ++counts[c];
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        q.push(uint64_t(p) * kPerProducer + i, static_cast<Queue::Style>((i + p) % 4));
      }
    });
  }
  for (auto& t : producers) t.join();
  for (int c = 0; c < kConsumers; ++c) q.push(kStop, Queue::Style::kWait);
  for (auto& t : threads) t.join();
  uint64_t sum = 0, x = 0, n = 0;
  for (int c = 0; c < kConsumers; ++c) {
    sum += sums[c];
    x ^= xors[c];
    n += counts[c];
  }
  std::printf("many-to-many: %llu items, sum %llu, xor-hash %016llx\n",
              static_cast<unsigned long long>(n), static_cast<unsigned long long>(sum),
              static_cast<unsigned long long>(x));
}

// A generation barrier through notify_all: every thread passes every round.
void notify_all_barrier() {
  constexpr int kThreads = 8;
  constexpr int kRounds = 300;
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;     // guarded by m
  int generation = 0;  // guarded by m
  long total = 0;      // guarded by m
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRounds; ++r) {
        std::unique_lock<std::mutex> g(m);
        total += long(t + 1) * (r + 1);
        const int gen = generation;
        if (++arrived == kThreads) {
          arrived = 0;
          ++generation;
          cv.notify_all();
        } else {
          cv.wait(g, [&] { return generation != gen; });
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("notify_all barrier: %d generations, total %ld\n", generation, total);
}

// Nobody notifies: every timed form must report a timeout.
void timeouts() {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> g(m);
  const bool pred_for = cv.wait_for(g, 20ms, [] { return false; });
  const bool pred_steady =
      cv.wait_until(g, std::chrono::steady_clock::now() + 20ms, [] { return false; });
  const bool pred_system =
      cv.wait_until(g, std::chrono::system_clock::now() + 20ms, [] { return false; });
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  std::cv_status status = std::cv_status::no_timeout;
  while (status == std::cv_status::no_timeout) status = cv.wait_until(g, deadline);
  std::printf("timeouts: wait_for %s, wait_until(steady) %s, wait_until(system) %s, cv_status %s\n",
              pred_for ? "ready" : "timeout", pred_steady ? "ready" : "timeout",
              pred_system ? "ready" : "timeout",
              status == std::cv_status::timeout ? "timeout" : "no_timeout");
  std::printf("mutex held after timeouts: %s\n", g.owns_lock() ? "yes" : "no");
}

// condition_variable_any over a std::shared_mutex (exclusive) and a
// std::recursive_mutex: an ordered ping-pong and a timeout.
template <typename Mutex>
void condvar_any(const char* name) {
  constexpr int kRounds = 20000;
  Mutex m;
  std::condition_variable_any cv;
  int turn = 0;        // guarded by m
  uint64_t trace = 0;  // guarded by m
  auto player = [&](int me) {
    for (int i = 0; i < kRounds; ++i) {
      std::unique_lock<Mutex> g(m);
      if (i % 2 == 0) {
        cv.wait(g, [&] { return turn == me; });
      } else {
        while (!cv.wait_for(g, 1ms, [&] { return turn == me; })) {
        }
      }
      trace = trace * 31 + me * 7 + i;
      turn = 1 - me;
      cv.notify_all();
    }
  };
  std::thread other(player, 1);
  player(0);
  other.join();
  std::unique_lock<Mutex> g(m);
  const bool timed_out = !cv.wait_until(g, std::chrono::system_clock::now() + 20ms,
                                        [] { return false; });
  std::printf("condition_variable_any<%s>: trace %016llx, timeout %s\n", name,
              static_cast<unsigned long long>(trace), timed_out ? "yes" : "no");
}

}  // namespace

int main() {
  ordered_stream();
  many_to_many();
  notify_all_barrier();
  timeouts();
  condvar_any<std::shared_mutex>("shared_mutex");
  condvar_any<std::recursive_mutex>("recursive_mutex");
  return 0;
}

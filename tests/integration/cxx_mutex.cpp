// std::mutex and std::recursive_mutex under contention. Every printed number
// is fixed by the program, not by the interleaving.
#include <array>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace {

// A deterministic per-thread random stream (xorshift64*).
struct Rng {
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  uint64_t s;
};

template <typename F>
void run_threads(int n, F f) {
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(f, t);
  for (auto& th : threads) th.join();
}

void plain_counter() {
  std::mutex m;
  long counter = 0;  // guarded by m
  run_threads(8, [&](int) {
    for (int i = 0; i < 50000; ++i) {
      std::lock_guard<std::mutex> g(m);
      ++counter;
    }
  });
  std::printf("std::mutex lock_guard counter: %ld\n", counter);
}

// try_lock until it succeeds: the number of attempts varies, the count does not.
void try_lock_counter() {
  std::mutex m;
  long counter = 0;  // guarded by m
  run_threads(6, [&](int) {
    for (int i = 0; i < 20000; ++i) {
      while (!m.try_lock()) std::this_thread::yield();
      ++counter;
      m.unlock();
    }
  });
  std::printf("std::mutex try_lock counter: %ld\n", counter);
}

// Each call locks three levels deep; each level counts.
void recursive_counter() {
  std::recursive_mutex m;
  long counter = 0;  // guarded by m
  auto nested = [&](auto& self, int depth) -> void {
    std::lock_guard<std::recursive_mutex> g(m);
    ++counter;
    if (depth > 1) self(self, depth - 1);
  };
  run_threads(6, [&](int) {
    for (int i = 0; i < 10000; ++i) nested(nested, 3);
  });
  bool relocked = m.try_lock() && m.try_lock();
  m.unlock();
  m.unlock();
  std::printf("std::recursive_mutex counter: %ld, try_lock twice: %s\n", counter,
              relocked ? "yes" : "no");
}

// Transfers between accounts, two locks at a time through std::scoped_lock's
// deadlock avoidance. Additions commute, so the final balances are fixed.
void bank_transfers() {
  constexpr int kAccounts = 16;
  std::array<std::mutex, kAccounts> locks;
  std::array<long, kAccounts> balance;  // balance[i] guarded by locks[i]
  balance.fill(1000);
  run_threads(8, [&](int t) {
    Rng rng(t + 1);
    for (int i = 0; i < 20000; ++i) {
      const int a = rng.next() % kAccounts;
      int b = rng.next() % kAccounts;
      if (b == a) b = (a + 1) % kAccounts;
      const long amount = rng.next() % 100;
      std::scoped_lock g(locks[a], locks[b]);
      balance[a] -= amount;
      balance[b] += amount;
    }
  });
  long total = 0;
  std::printf("balances:");
  for (long b : balance) {
    std::printf(" %ld", b);
    total += b;
  }
  std::printf("\ntotal: %ld\n", total);
}

}  // namespace

int main() {
  plain_counter();
  try_lock_counter();
  recursive_counter();
  bank_transfers();
  return 0;
}

// std::shared_mutex and std::shared_timed_mutex (pthread_rwlock_*, with
// libstdc++'s try_lock_*_for on pthread_rwlock_clock*lock).
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

// Writers keep a == b; readers must never see them differ.
template <typename SharedMutex>
void readers_and_writers(const char* name) {
  constexpr int kWriters = 2;
  constexpr int kReaders = 6;
  constexpr int kWrites = 20000;
  constexpr int kReads = 30000;
  SharedMutex m;
  long a = 0, b = 0;  // guarded by m
  std::vector<long> torn(kReaders, 0);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&] {
      for (int i = 0; i < kWrites; ++i) {
        std::unique_lock<SharedMutex> g(m);
        ++a;
        ++b;
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < kReads; ++i) {
        std::shared_lock<SharedMutex> g(m);
        if (a != b) ++torn[r];
      }
    });
  }
  for (auto& t : threads) t.join();
  long torn_total = 0;
  for (long t : torn) torn_total += t;
  std::printf("%s: a=%ld b=%ld, torn reads %ld\n", name, a, b, torn_total);
}

const char* got(bool b) { return b ? "acquired" : "timed out"; }

// Holds `m` on another thread (shared or exclusive) while `probe` runs.
template <typename Probe>
void while_held(std::shared_timed_mutex& m, bool exclusive, Probe probe) {
  std::promise<void> locked;
  std::promise<void> release;
  std::thread holder([&] {
    if (exclusive) m.lock(); else m.lock_shared();
    locked.set_value();
    release.get_future().wait();
    if (exclusive) m.unlock(); else m.unlock_shared();
  });
  locked.get_future().wait();
  probe();
  release.set_value();
  holder.join();
}

void timed_shared() {
  std::shared_timed_mutex m;
  while_held(m, /*exclusive=*/true, [&] {
    std::printf("writer holds: try_lock_shared_for(20ms) %s, try_lock_for(20ms) %s, "
                "try_lock_shared_until(system+20ms) %s\n",
                got(m.try_lock_shared_for(20ms)), got(m.try_lock_for(20ms)),
                got(m.try_lock_shared_until(std::chrono::system_clock::now() + 20ms)));
  });
  while_held(m, /*exclusive=*/false, [&] {
    const bool shared = m.try_lock_shared_for(1s);
    if (shared) m.unlock_shared();
    std::printf("reader holds: try_lock_shared_for(1s) %s, try_lock_for(20ms) %s, "
                "try_lock_until(steady+20ms) %s\n",
                got(shared), got(m.try_lock_for(20ms)),
                got(m.try_lock_until(std::chrono::steady_clock::now() + 20ms)));
  });

  // Contended, with deadlines far enough that none expires.
  long value = 0;   // guarded by m
  long missed = 0;  // guarded by m after an acquisition
  long seen = 0;
  std::vector<std::thread> threads;
  for (int w = 0; w < 3; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 5000; ++i) {
        const bool ok = (i + w) % 2 ? m.try_lock_for(20s)
                                    : m.try_lock_until(std::chrono::system_clock::now() + 20s);
        if (!ok) {
          m.lock();
          ++missed;
        }
        ++value;
        m.unlock();
      }
    });
  }
  std::vector<long> reads(3, 0);
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      for (int i = 0; i < 5000; ++i) {
        if (!m.try_lock_shared_for(20s)) continue;
        ++reads[r];
        m.unlock_shared();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (long n : reads) seen += n;
  std::printf("shared_timed_mutex contended: value %ld, failed timed writes %ld, reads %ld\n",
              value, missed, seen);
}

}  // namespace

int main() {
  readers_and_writers<std::shared_mutex>("shared_mutex");
  readers_and_writers<std::shared_timed_mutex>("shared_timed_mutex");
  timed_shared();
  return 0;
}

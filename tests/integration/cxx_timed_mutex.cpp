// std::timed_mutex and std::recursive_timed_mutex: try_lock_for (libstdc++
// calls pthread_mutex_clocklock on CLOCK_MONOTONIC) and try_lock_until on
// steady_clock and system_clock (pthread_mutex_timedlock).
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

template <typename F>
void run_threads(int n, F f) {
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(f, t);
  for (auto& th : threads) th.join();
}

// Runs `probe` while another thread holds `m`; the holder lets go only after
// the probe returned, so every timed attempt in it must time out.
template <typename Mutex, typename Probe>
void while_held_elsewhere(Mutex& m, Probe probe) {
  std::promise<void> locked;
  std::promise<void> release;
  std::thread holder([&] {
    std::lock_guard<Mutex> g(m);
    locked.set_value();
    release.get_future().wait();
  });
  locked.get_future().wait();
  probe();
  release.set_value();
  holder.join();
}

const char* acquired_or_not(bool b) { return b ? "acquired" : "not acquired"; }

void timeouts_on_a_held_mutex() {
  std::timed_mutex m;
  while_held_elsewhere(m, [&] {
    std::printf("try_lock_for(30ms) on held: %s\n", acquired_or_not(m.try_lock_for(30ms)));
    std::printf("try_lock_until(steady+30ms) on held: %s\n",
                acquired_or_not(m.try_lock_until(std::chrono::steady_clock::now() + 30ms)));
    std::printf("try_lock_until(system+30ms) on held: %s\n",
                acquired_or_not(m.try_lock_until(std::chrono::system_clock::now() + 30ms)));
    std::printf("try_lock_until(past) on held: %s\n",
                acquired_or_not(m.try_lock_until(std::chrono::system_clock::now() - 1s)));
    std::printf("try_lock on held: %s\n", acquired_or_not(m.try_lock()));
  });
  const bool free_again = m.try_lock_for(1s);
  std::printf("try_lock_for after release: %s\n", acquired_or_not(free_again));
  if (free_again) m.unlock();
}

// Contended counters through each timed entry point; the deadlines are far
// enough that none expires, so every attempt counts.
void contended_timed_counters() {
  std::timed_mutex m;
  long counter = 0;  // guarded by m
  long missed = 0;   // guarded by m after an acquisition
  run_threads(6, [&](int t) {
    for (int i = 0; i < 5000; ++i) {
      bool got;
      switch ((i + t) % 3) {
        case 0: got = m.try_lock_for(20s); break;
        case 1: got = m.try_lock_until(std::chrono::steady_clock::now() + 20s); break;
        default: got = m.try_lock_until(std::chrono::system_clock::now() + 20s); break;
      }
      if (!got) {
        m.lock();
        ++missed;
      }
      ++counter;
      m.unlock();
    }
  });
  std::printf("timed_mutex counter: %ld, timed attempts that failed: %ld\n", counter, missed);
}

void recursive_timed() {
  std::recursive_timed_mutex m;
  m.lock();
  const bool second = m.try_lock_for(1s);
  const bool third = m.try_lock_until(std::chrono::system_clock::now() + 1s);
  bool other_got_it = true;
  std::thread other([&] { other_got_it = m.try_lock_for(20ms); });
  other.join();
  if (third) m.unlock();
  if (second) m.unlock();
  m.unlock();
  bool other_after = false;
  std::thread after([&] {
    other_after = m.try_lock_for(1s);
    if (other_after) m.unlock();
  });
  after.join();
  std::printf("recursive_timed_mutex: relock %s/%s, other thread while held: %s, after: %s\n",
              acquired_or_not(second), acquired_or_not(third), acquired_or_not(other_got_it), acquired_or_not(other_after));

  long counter = 0;  // guarded by m
  run_threads(4, [&](int) {
    for (int i = 0; i < 5000; ++i) {
      if (!m.try_lock_for(20s)) m.lock();
      if (!m.try_lock_for(20s)) m.lock();
      ++counter;
      m.unlock();
      m.unlock();
    }
  });
  std::printf("recursive_timed_mutex counter: %ld\n", counter);
}

}  // namespace

int main() {
  timeouts_on_a_held_mutex();
  contended_timed_counters();
  recursive_timed();
  return 0;
}

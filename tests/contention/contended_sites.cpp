// A program with deliberately contended call-sites at known lines, for the
// contention-export tests: one named mutex ("orders") and one static mutex
// variable (g_table_mutex, labelled by its symbol).
//
// Each round, a holder takes the lock, lets the waiter threads go, and keeps
// the lock until every waiter is asleep in the kernel (/proc says 'S'), so
// that every waiter's lock call waits: the waits per site are exactly
// threads x rounds. It prints what a correct recorder must report:
//   expect wait <function> <file>:<line> <lock> <count>
//   expect holder <function> <file>:<line> <lock>
// then "ready", and with --hold-open it stays alive until its standard input
// closes (at most 120 s), for scrapes.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "parked_rounds.h"
#include "parklock.h"

pthread_mutex_t g_orders_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t g_table_mutex = PTHREAD_MUTEX_INITIALIZER;

// The functions whose lines the recorder must name are global (their
// labels then read `wait_on_orders()`), never inlined, and do work after
// each unlock, so that no unlock is a tail call (a tail call leaves no frame
// of its caller on the stack: the holder would be named by its caller).
int g_orders_wait_line, g_table_wait_line, g_holder_unlock_line;
int g_contended_word;  // the lock word while waiters sleep: tells whose algorithm ran
std::atomic<long> g_shared_work{0};

using parked_rounds::thread_state;

struct Round {
  std::atomic<int> go{0};       // round number the waiters may start
  std::atomic<int> arrived{0};  // waiters that are about to lock
  std::atomic<int> done{0};
};

__attribute__((noinline)) void wait_on_orders() {
  g_orders_wait_line = __LINE__ + 1;
  pthread_mutex_lock(&g_orders_mutex);
  g_shared_work.fetch_add(1);
  pthread_mutex_unlock(&g_orders_mutex);
  g_shared_work.fetch_add(1);
}

__attribute__((noinline)) void wait_on_table() {
  g_table_wait_line = __LINE__ + 1;
  pthread_mutex_lock(&g_table_mutex);
  g_shared_work.fetch_add(1);
  pthread_mutex_unlock(&g_table_mutex);
  g_shared_work.fetch_add(1);
}

// Holds `m` until the waiters (by tid) are all asleep, then lets go.
__attribute__((noinline)) void hold_until_parked(pthread_mutex_t* m, Round& round, int number,
                                                 const std::vector<pid_t>& tids) {
  pthread_mutex_lock(m);
  round.arrived = 0;
  round.go = number;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    bool all_asleep = round.arrived.load() == int(tids.size());
    for (pid_t tid : tids) all_asleep = all_asleep && thread_state(tid) == 'S';
    if (all_asleep || std::chrono::steady_clock::now() > give_up) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  g_contended_word = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
  g_holder_unlock_line = __LINE__ + 1;
  pthread_mutex_unlock(m);
  g_shared_work.fetch_add(1);
}

namespace {

void contend(pthread_mutex_t* m, void (*wait)(), int threads, int rounds) {
  Round round;
  std::vector<pid_t> tids(threads);
  std::atomic<int> started{0};
  std::vector<std::thread> waiters;
  for (int t = 0; t < threads; ++t) {
    waiters.emplace_back([&, t] {
      tids[t] = gettid();
      started.fetch_add(1);
      for (int r = 1; r <= rounds; ++r) {
        while (round.go.load() < r) std::this_thread::sleep_for(std::chrono::microseconds(200));
        round.arrived.fetch_add(1);
        wait();
        round.done.fetch_add(1);
      }
    });
  }
  while (started.load() < threads) std::this_thread::yield();
  for (int r = 1; r <= rounds; ++r) {
    hold_until_parked(m, round, r, tids);
    while (round.done.load() < r * threads) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  for (auto& w : waiters) w.join();
}

int int_flag(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (!strcmp(argv[i], name)) return atoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = int_flag(argc, argv, "--threads", 3);
  const int rounds = int_flag(argc, argv, "--rounds", 4);
  bool hold_open = false;
  for (int i = 1; i < argc; ++i) hold_open = hold_open || !strcmp(argv[i], "--hold-open");

  PARKLOCK_SET_NAME(&g_orders_mutex, "orders");
  contend(&g_orders_mutex, wait_on_orders, threads, rounds);
  contend(&g_table_mutex, wait_on_table, threads, rounds);

  const int waits = threads * rounds;
  std::printf("expect wait wait_on_orders contended_sites.cpp:%d orders %d\n", g_orders_wait_line, waits);
  std::printf("expect wait wait_on_table contended_sites.cpp:%d g_table_mutex %d\n", g_table_wait_line, waits);
  std::printf("expect holder hold_until_parked contended_sites.cpp:%d orders\n", g_holder_unlock_line);
  // Every lock call on the named mutex: the waiters' and the holder's.
  std::printf("expect acquisitions orders %d\n", waits + rounds);
  std::printf("contended lock word %d\n", g_contended_word);
  std::printf("work %ld\nready\n", g_shared_work.load());
  std::fflush(stdout);
  if (hold_open) {
    // Until the test closes our stdin; a read that never returns is cut off
    // by the alarm.
    alarm(120);
    char buffer[64];
    while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
    }
  }
  return 0;
}

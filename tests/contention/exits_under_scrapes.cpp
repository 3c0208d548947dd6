// A program that exits while its metrics are being scraped, for the test
// that the exporter never crashes, hangs, keeps a process alive, or changes
// its exit status.
//
//   exits_under_scrapes return STATUS            main returns STATUS
//   exits_under_scrapes exit-from-thread STATUS  a second thread calls
//                                                exit(STATUS) while main is
//                                                blocked joining it
//   exits_under_scrapes pthread-exit             main calls pthread_exit; the
//                                                process ends, with status 0,
//                                                when its last thread does
//
// The program first makes three waits on a named mutex ("churn") that
// certainly park (parked_rounds.h), so that there is contention to scrape
// and report; then three threads keep that mutex busy the whole time, so
// that the recorder, the scrapes and the exit all run at once. It prints
// "ready", waits for a line on its standard input (the test sends it while
// scrapes are running), prints "exiting STATUS" and exits as asked. The churn stops by itself after 60 s,
// and at once in the pthread-exit mode.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "parked_rounds.h"
#include "parklock.h"

namespace {

pthread_mutex_t g_churn = PTHREAD_MUTEX_INITIALIZER;
long g_shared = 0;  // guarded by g_churn
std::atomic<long> g_rounds{0};
std::atomic<bool> g_stop{false};

// Holds the lock for a few microseconds of work, so the others wait on it.
void churn() {
  const auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!g_stop.load() && std::chrono::steady_clock::now() < stop) {
    pthread_mutex_lock(&g_churn);
    for (int i = 0; i < 2000; ++i) g_shared = g_shared * 31 + i;
    pthread_mutex_unlock(&g_churn);
    g_rounds.fetch_add(1, std::memory_order_relaxed);
  }
}

void wait_for_line() {
  char line[64];
  if (!fgets(line, sizeof line, stdin)) std::printf("stdin closed\n");
}

void say_exiting(int status) {
  std::printf("exiting %d\n", status);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc >= 2 ? argv[1] : "";
  const bool with_status = !strcmp(mode, "return") || !strcmp(mode, "exit-from-thread");
  if (!(with_status ? argc == 3 : argc == 2 && !strcmp(mode, "pthread-exit"))) {
    std::fprintf(stderr, "usage: %s return|exit-from-thread STATUS | pthread-exit\n", argv[0]);
    return 2;
  }
  const int status = with_status ? atoi(argv[2]) : 0;
  PARKLOCK_SET_NAME(&g_churn, "churn");

  parked_rounds::run(&g_churn, 3, [](int) {
    pthread_mutex_lock(&g_churn);
    pthread_mutex_unlock(&g_churn);
  });
  // Detached: they are still locking when the process exits.
  for (int t = 0; t < 3; ++t) std::thread(churn).detach();
  while (g_rounds.load() < 1000) std::this_thread::yield();
  std::printf("ready\n");
  std::fflush(stdout);

  if (!strcmp(mode, "return")) {
    wait_for_line();
    say_exiting(status);
    return status;
  }
  if (!strcmp(mode, "pthread-exit")) {
    wait_for_line();
    say_exiting(0);
    g_stop = true;
    pthread_exit(nullptr);
  }
  std::thread exiter([status] {
    wait_for_line();
    say_exiting(status);
    exit(status);
  });
  exiter.join();
  std::printf("exit returned\n");  // never printed
  return 99;
}

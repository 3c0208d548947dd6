// A program that exits while its metrics are being scraped, for the test
// that the exporter never crashes, hangs or changes a program's exit.
//
//   exits_under_scrapes main STATUS     returns STATUS from main
//   exits_under_scrapes thread STATUS   a second thread calls exit(STATUS)
//                                       while main is blocked joining it
//
// Three threads keep a named mutex ("churn") contended the whole time, so
// that the recorder, the scrapes and the exit all run at once. The program
// prints "ready" once there is contention to scrape, waits for a line on
// its standard input (the test sends it while scrapes are running), prints
// "exiting STATUS" and exits as asked. The churn stops by itself after 60 s.
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "parklock.h"

namespace {

pthread_mutex_t g_churn = PTHREAD_MUTEX_INITIALIZER;
long g_shared = 0;  // guarded by g_churn
std::atomic<long> g_rounds{0};

// Holds the lock for a few microseconds of work, so the others wait on it.
void churn() {
  const auto stop = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < stop) {
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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || (strcmp(argv[1], "main") && strcmp(argv[1], "thread"))) {
    std::fprintf(stderr, "usage: %s main|thread STATUS\n", argv[0]);
    return 2;
  }
  const bool from_thread = !strcmp(argv[1], "thread");
  const int status = atoi(argv[2]);
  PARKLOCK_SET_NAME(&g_churn, "churn");

  // Detached: they are still locking when the process exits.
  for (int t = 0; t < 3; ++t) std::thread(churn).detach();
  while (g_rounds.load() < 1000) std::this_thread::yield();
  std::printf("ready\n");
  std::fflush(stdout);

  if (!from_thread) {
    wait_for_line();
    std::printf("exiting %d\n", status);
    std::fflush(stdout);
    return status;
  }
  std::thread exiter([status] {
    wait_for_line();
    std::printf("exiting %d\n", status);
    std::fflush(stdout);
    exit(status);
  });
  exiter.join();
  std::printf("exit returned\n");  // never printed
  return 99;
}

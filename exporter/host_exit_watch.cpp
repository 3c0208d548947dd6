#include "host_exit_watch.h"

#include <pthread.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace parklock {
namespace {

// How often the watch looks, once main has gone: the process then outlives
// its last thread by at most this.
constexpr auto kPollInterval = std::chrono::milliseconds(50);

int g_exporter_threads = 0;
pid_t g_watched_pid = 0;
pthread_key_t g_main_exit_key;

void watch() {
  // Left: the main thread (a zombie, still counted until the process is
  // reaped), the exporter's threads, and this one.
  const int nothing_of_the_host = 1 + g_exporter_threads + 1;
  for (;;) {
    const int threads = process_threads();
    if (threads >= 0 && threads <= nothing_of_the_host) exit(0);
    std::this_thread::sleep_for(kPollInterval);
  }
}

// The main thread is leaving by pthread_exit (exit() runs no key destructors).
void on_main_thread_exit(void*) {
  if (getpid() != g_watched_pid) return;  // a fork child's copy of the key
  try {
    std::thread(watch).detach();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parklock: cannot watch for the program's last thread: %s\n", e.what());
  }
}

}  // namespace

int process_threads() {
  FILE* status = std::fopen("/proc/self/status", "re");
  if (!status) return -1;
  char line[256];
  int threads = -1;
  while (std::fgets(line, sizeof line, status))
    if (std::sscanf(line, "Threads: %d", &threads) == 1) break;
  std::fclose(status);
  return threads;
}

void exit_with_last_host_thread(int exporter_threads) {
  if (exporter_threads <= 0 || gettid() != getpid()) return;
  if (pthread_key_create(&g_main_exit_key, on_main_thread_exit) != 0) return;
  g_exporter_threads = exporter_threads;
  g_watched_pid = getpid();
  // Any non-null value: the destructor runs only for a non-null one.
  pthread_setspecific(g_main_exit_key, &g_exporter_threads);
}

}  // namespace parklock

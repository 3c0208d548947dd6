// A program with a thousand distinct contended call-sites, for the tests of
// the exporter's cardinality limit (top K, site="other") and of a full site
// table (the overflow site, the dropped counter).
//
// wait_at<N> (N < kFunctions) each lock one named mutex ("grid"); via<P>
// calls them, so that --paths P gives every function P distinct stacks. The
// (path, function) pairs are called one at a time in parked_rounds, so
// every one of those lock calls parks: the waits recorded on "grid" are
// exactly sites x paths. --nest D puts D more frames (a recursion) between
// the waiter's thread start and via<P>, for the tests of the stack depth.
// Prints "waits N" (and "late N", the rounds the waiter never slept in,
// which must be 0), then "ready"; with --hold-open it then stays alive until
// its standard input closes (at most 120 s), for scrapes.
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "parked_rounds.h"
#include "parklock.h"

namespace {

constexpr int kFunctions = 1000;
constexpr int kPaths = 8;
constexpr int kMaxNest = 40;

pthread_mutex_t g_grid = PTHREAD_MUTEX_INITIALIZER;
std::atomic<long> g_work{0};

// Distinct constants keep the bodies distinct, so identical-code folding
// cannot merge the functions (or their call-sites) into one.
template <int N>
[[gnu::noinline]] void wait_at() {
  pthread_mutex_lock(&g_grid);
  g_work.fetch_add(N + 1, std::memory_order_relaxed);
  pthread_mutex_unlock(&g_grid);
  g_work.fetch_add(N + 1, std::memory_order_relaxed);  // no tail call: the frame stays
}

template <int P>
[[gnu::noinline]] void via(void (*wait)()) {
  wait();
  g_work.fetch_add(P + 1, std::memory_order_relaxed);
}

[[gnu::noinline]] void nested(int depth, void (*via)(void (*)()), void (*wait)()) {
  if (depth == 0) via(wait);
  else nested(depth - 1, via, wait);
  g_work.fetch_add(1, std::memory_order_relaxed);  // not a tail call: each level keeps its frame
}

template <size_t... N>
constexpr std::array<void (*)(), sizeof...(N)> functions(std::index_sequence<N...>) {
  return {&wait_at<int(N)>...};
}
template <size_t... P>
constexpr std::array<void (*)(void (*)()), sizeof...(P)> paths(std::index_sequence<P...>) {
  return {&via<int(P)>...};
}
constexpr auto kWaitAt = functions(std::make_index_sequence<kFunctions>());
constexpr auto kVia = paths(std::make_index_sequence<kPaths>());

int int_flag(int argc, char** argv, const char* name, int fallback, int min, int max) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (strcmp(argv[i], name)) continue;
    int value = atoi(argv[i + 1]);
    if (value < min || value > max) {
      std::fprintf(stderr, "%s: %d..%d\n", name, min, max);
      exit(2);
    }
    return value;
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int sites = int_flag(argc, argv, "--sites", kFunctions, 1, kFunctions);
  const int path_count = int_flag(argc, argv, "--paths", 1, 1, kPaths);
  const int nest = int_flag(argc, argv, "--nest", 0, 0, kMaxNest);
  bool hold_open = false;
  for (int i = 1; i < argc; ++i) hold_open = hold_open || !strcmp(argv[i], "--hold-open");
  PARKLOCK_SET_NAME(&g_grid, "grid");

  const int rounds = sites * path_count;
  const int late = parked_rounds::run(&g_grid, rounds, [&](int r) {
    const int p = (r - 1) / sites, n = (r - 1) % sites;
    nested(nest, kVia[p], kWaitAt[n]);
  });

  std::printf("waits %d\nlate %d\nwork %ld\nready\n", rounds, late, g_work.load());
  std::fflush(stdout);
  if (hold_open) {
    alarm(120);
    char buffer[64];
    while (read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
    }
  }
  return 0;
}

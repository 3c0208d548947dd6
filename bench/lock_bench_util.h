// lock_bench_util.h: what mutex_bench and condvar_bench share.
//
//   - GlibcLocks / ParklockLocks: the same calls on the same pthread objects,
//     glibc's and parklock's, as static functions, so each workload is one
//     template instantiated twice and the two run side by side in one process;
//   - ThreadTeam: start N threads together, stop them together, time the run;
//   - flag parsing for our own sweep flags (taken out of argv before Google
//     Benchmark sees it);
//   - RatioReporter: the usual console rows, then a summary table pairing each
//     glibc row with its parklock row and the ratio parklock/glibc.
#pragma once

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "parklock.h"

namespace lockbench {

struct GlibcLocks {
  static constexpr const char* kName = "glibc";
  static int mutex_init(pthread_mutex_t* m) { return pthread_mutex_init(m, nullptr); }
  static int mutex_destroy(pthread_mutex_t* m) { return pthread_mutex_destroy(m); }
  static int lock(pthread_mutex_t* m) { return pthread_mutex_lock(m); }
  static int unlock(pthread_mutex_t* m) { return pthread_mutex_unlock(m); }
  static int cond_init(pthread_cond_t* c) { return pthread_cond_init(c, nullptr); }
  static int cond_destroy(pthread_cond_t* c) { return pthread_cond_destroy(c); }
  static int wait(pthread_cond_t* c, pthread_mutex_t* m) { return pthread_cond_wait(c, m); }
  static int signal(pthread_cond_t* c) { return pthread_cond_signal(c); }
  static int broadcast(pthread_cond_t* c) { return pthread_cond_broadcast(c); }
};

struct ParklockLocks {
  static constexpr const char* kName = "parklock";
  static int mutex_init(pthread_mutex_t* m) { return parklock_mutex_init(m, nullptr); }
  static int mutex_destroy(pthread_mutex_t* m) { return parklock_mutex_destroy(m); }
  static int lock(pthread_mutex_t* m) { return parklock_mutex_lock(m); }
  static int unlock(pthread_mutex_t* m) { return parklock_mutex_unlock(m); }
  static int cond_init(pthread_cond_t* c) { return parklock_cond_init(c, nullptr); }
  static int cond_destroy(pthread_cond_t* c) { return parklock_cond_destroy(c); }
  static int wait(pthread_cond_t* c, pthread_mutex_t* m) { return parklock_cond_wait(c, m); }
  static int signal(pthread_cond_t* c) { return parklock_cond_signal(c); }
  static int broadcast(pthread_cond_t* c) { return parklock_cond_broadcast(c); }
};

// Runs body(thread_index) on `threads` threads that start together; returns
// the seconds from the common start until the last one finished. `stop`
// (optional) is raised after `run_for`, for bodies that run until told.
template <typename Body>
double RunTeam(int threads, Body body, std::atomic<bool>* stop = nullptr,
               std::chrono::milliseconds run_for = std::chrono::milliseconds(0)) {
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> team;
  team.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    team.emplace_back([&, t] {
      ready.fetch_add(1);
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      body(t);
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  const auto start = std::chrono::steady_clock::now();
  go.store(true, std::memory_order_release);
  if (stop != nullptr) {
    std::this_thread::sleep_for(run_for);
    stop->store(true, std::memory_order_relaxed);
  }
  for (auto& th : team) th.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Takes `--name=value` out of argv (so Google Benchmark never sees it) and
// returns value, or nullptr when absent.
inline const char* TakeFlag(int* argc, char** argv, const char* name) {
  const std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < *argc; ++i) {
    if (std::strncmp(argv[i], prefix.c_str(), prefix.size()) == 0) {
      const char* value = argv[i] + prefix.size();
      for (int j = i; j + 1 < *argc; ++j) argv[j] = argv[j + 1];
      --*argc;
      return value;
    }
  }
  return nullptr;
}

// "1,2,4" -> {1, 2, 4}; `fallback` when the flag is absent or unparsable.
inline std::vector<int> TakeIntListFlag(int* argc, char** argv, const char* name,
                                        std::vector<int> fallback) {
  const char* value = TakeFlag(argc, argv, name);
  if (value == nullptr) return fallback;
  std::vector<int> out;
  for (const char* p = value; *p != '\0';) {
    char* end = nullptr;
    const long n = std::strtol(p, &end, 10);
    if (end == p || n <= 0) {
      std::fprintf(stderr, "ignoring bad --%s=%s\n", name, value);
      return fallback;
    }
    out.push_back(static_cast<int>(n));
    p = *end == ',' ? end + 1 : end;
  }
  return out.empty() ? fallback : out;
}

inline long TakeIntFlag(int* argc, char** argv, const char* name, long fallback) {
  const char* value = TakeFlag(argc, argv, name);
  if (value == nullptr) return fallback;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || n <= 0) {
    std::fprintf(stderr, "ignoring bad --%s=%s\n", name, value);
    return fallback;
  }
  return n;
}

// Prints Google Benchmark's console rows as usual, and at the end a table
// that pairs each ".../glibc/..." row with its ".../parklock/..." twin:
// every user counter (or, without counters, the time per iteration) with
// the ratio parklock/glibc. With --benchmark_repetitions the medians are
// paired.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using benchmark::ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool is_median =
          run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !is_median) continue;
      const std::string name = run.run_name.str();
      const std::string key = PairKey(name);
      if (rows_.find(key) == rows_.end()) order_.push_back(key);
      Row& row = rows_[key];
      bool is_parklock = false;
      for (const std::string& segment : Segments(name)) is_parklock |= segment == "parklock";
      Metrics& m = is_parklock ? row.parklock : row.glibc;
      if (m.present && !is_median) continue;  // a median, once seen, wins
      m.present = true;
      m.values.clear();
      for (const auto& [counter, value] : run.counters) m.values[counter] = value.value;
      if (m.values.empty()) {
        // CPU time next to wall time: on a loaded machine a single-threaded
        // loop loses wall time to other processes, not CPU time.
        const std::string unit = benchmark::GetTimeUnitString(run.time_unit);
        m.values["real " + unit + "/iter"] = run.GetAdjustedRealTime();
        m.values["cpu " + unit + "/iter"] = run.GetAdjustedCPUTime();
      }
    }
  }

  void Finalize() override {
    benchmark::ConsoleReporter::Finalize();
    std::ostream& out = GetOutputStream();
    char line[160];
    out << "\nparklock vs glibc (ratio = parklock / glibc)\n";
    std::snprintf(line, sizeof line, "%-40s %-18s %14s %14s %8s\n", "benchmark", "metric",
                  "glibc", "parklock", "ratio");
    out << line;
    for (const std::string& key : order_) {
      const Row& row = rows_[key];
      if (!row.glibc.present || !row.parklock.present) continue;
      for (const auto& [metric, g] : row.glibc.values) {
        auto it = row.parklock.values.find(metric);
        if (it == row.parklock.values.end()) continue;
        const double p = it->second;
        std::snprintf(line, sizeof line, "%-40s %-18s %14.4g %14.4g %8.2f\n", key.c_str(),
                      metric.c_str(), g, p, g != 0 ? p / g : 0.0);
        out << line;
      }
    }
    out.flush();
  }

 private:
  struct Metrics {
    bool present = false;
    std::map<std::string, double> values;
  };
  struct Row {
    Metrics glibc;
    Metrics parklock;
  };

  static std::vector<std::string> Segments(const std::string& name) {
    std::vector<std::string> out;
    size_t begin = 0;
    for (;;) {
      const size_t end = name.find('/', begin);
      out.push_back(name.substr(begin, end == std::string::npos ? end : end - begin));
      if (end == std::string::npos) return out;
      begin = end + 1;
    }
  }

  // The row name without its backend segment and without the run-mode
  // segments Google Benchmark appends ("iterations:1", "manual_time").
  static std::string PairKey(const std::string& name) {
    std::string key;
    for (const std::string& segment : Segments(name)) {
      const bool drop = segment == "glibc" || segment == "parklock" || segment == "manual_time" ||
                        segment == "real_time" || segment.rfind("iterations:", 0) == 0;
      if (!drop) key += (key.empty() ? "" : "/") + segment;
    }
    return key;
  }

  std::map<std::string, Row> rows_;
  std::vector<std::string> order_;  // pair keys in the order first reported
};

// Initializes Google Benchmark with what is left of argv, runs everything
// through a RatioReporter, and returns the process exit code.
inline int RunAll(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(isatty(STDOUT_FILENO) ? RatioReporter::OO_ColorTabular
                                               : RatioReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace lockbench

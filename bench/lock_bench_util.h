// lock_bench_util.h: what the lock benchmarks share.
//
//   - GlibcLocks / ParklockLocks: the same calls on the same pthread objects,
//     glibc's and parklock's, as static functions, so each workload is one
//     template instantiated twice and the two run side by side in one process;
//   - ThreadTeam: start N threads together, stop them together, time the run;
//   - flag parsing for our own sweep flags (taken out of argv before Google
//     Benchmark sees it);
//   - RatioReporter: the usual console rows, then a summary table pairing each
//     baseline row (glibc) with its twins (parklock) and the ratio
//     twin/baseline.
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
#include <utility>
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

// Prints Google Benchmark's console rows as usual, and at the end, for each
// Pairing, a table that pairs every row holding its `baseline` segment
// (".../glibc/...") with its twins holding a `variant` segment instead
// (".../parklock/..."): every user counter (or, without counters, the time
// per iteration) with the ratio variant/baseline. With
// --benchmark_repetitions the medians are paired.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  struct Pairing {
    std::string title;
    std::string baseline;
    std::vector<std::string> variants;
  };
  static Pairing GlibcVsParklock() {
    return {"parklock vs glibc (ratio = parklock / glibc)", "glibc", {"parklock"}};
  }

  explicit RatioReporter(OutputOptions options, std::vector<Pairing> pairings = {GlibcVsParklock()})
      : benchmark::ConsoleReporter(options), pairings_(std::move(pairings)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    benchmark::ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const bool is_median =
          run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (run.run_type == Run::RT_Aggregate && !is_median) continue;
      const std::string name = RowName(run.run_name.str());
      auto [it, inserted] = rows_.try_emplace(name);
      if (inserted) order_.push_back(name);
      Row& row = it->second;
      if (row.from_median && !is_median) continue;  // a median, once seen, wins
      row.from_median = is_median;
      row.counters.clear();
      for (const auto& [counter, value] : run.counters) row.counters[counter] = value.value;
      // CPU time next to wall time: on a loaded machine a single-threaded
      // loop loses wall time to other processes, not CPU time.
      const std::string unit = benchmark::GetTimeUnitString(run.time_unit);
      row.times.clear();
      row.times["real " + unit + "/iter"] = run.GetAdjustedRealTime();
      row.times["cpu " + unit + "/iter"] = run.GetAdjustedCPUTime();
    }
  }

  void Finalize() override {
    benchmark::ConsoleReporter::Finalize();
    for (const Pairing& pairing : pairings_) PrintPairing(pairing);
    GetOutputStream().flush();
  }

  // A metric (a user counter, or "real ns/iter", "cpu ms/iter", ...) of the
  // row named `name` (without Google Benchmark's run-mode segments); false if
  // that row or metric is missing.
  bool Find(const std::string& name, const std::string& metric, double* value) const {
    auto row = rows_.find(name);
    if (row == rows_.end()) return false;
    for (const Metrics* metrics : {&row->second.counters, &row->second.times}) {
      auto it = metrics->find(metric);
      if (it == metrics->end()) continue;
      *value = it->second;
      return true;
    }
    return false;
  }

 private:
  using Metrics = std::map<std::string, double>;  // metric -> value
  struct Row {
    bool from_median = false;
    Metrics counters;
    Metrics times;
    // What the ratio tables show: the counters, or the times without any.
    const Metrics& shown() const { return counters.empty() ? times : counters; }
  };

  void PrintPairing(const Pairing& pairing) {
    std::ostream& out = GetOutputStream();
    const bool one_variant = pairing.variants.size() == 1;
    char line[200];
    out << "\n" << pairing.title << "\n";
    if (one_variant) {
      std::snprintf(line, sizeof line, "%-40s %-18s %14s %14s %8s\n", "benchmark", "metric",
                    pairing.baseline.c_str(), pairing.variants[0].c_str(), "ratio");
    } else {
      std::snprintf(line, sizeof line, "%-40s %-18s %-16s %14s %14s %8s\n", "benchmark", "metric",
                    "variant", pairing.baseline.c_str(), "value", "ratio");
    }
    out << line;
    for (const std::string& name : order_) {
      std::vector<std::string> segments = Segments(name);
      size_t role = 0;
      while (role < segments.size() && segments[role] != pairing.baseline) ++role;
      if (role == segments.size()) continue;
      std::vector<std::string> key_segments = segments;
      key_segments.erase(key_segments.begin() + long(role));
      const std::string key = Join(key_segments);
      const Metrics& base = rows_[name].shown();
      for (const std::string& variant : pairing.variants) {
        segments[role] = variant;
        for (const auto& [metric, b] : base) {
          double v = 0;
          if (!Find(Join(segments), metric, &v)) continue;
          const double ratio = b != 0 ? v / b : 0.0;
          if (one_variant) {
            std::snprintf(line, sizeof line, "%-40s %-18s %14.4g %14.4g %8.2f\n", key.c_str(),
                          metric.c_str(), b, v, ratio);
          } else {
            std::snprintf(line, sizeof line, "%-40s %-18s %-16s %14.4g %14.4g %8.3f\n", key.c_str(),
                          metric.c_str(), variant.c_str(), b, v, ratio);
          }
          out << line;
        }
      }
    }
  }

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

  static std::string Join(const std::vector<std::string>& segments) {
    std::string out;
    for (const std::string& segment : segments) out += (out.empty() ? "" : "/") + segment;
    return out;
  }

  // The run name without the run-mode segments Google Benchmark appends
  // ("iterations:1", "repeats:5", "manual_time", ...).
  static std::string RowName(const std::string& run_name) {
    std::vector<std::string> kept;
    for (const std::string& segment : Segments(run_name)) {
      const bool drop = segment == "manual_time" || segment == "real_time" ||
                        segment.rfind("iterations:", 0) == 0 || segment.rfind("repeats:", 0) == 0 ||
                        segment.rfind("min_time:", 0) == 0;
      if (!drop) kept.push_back(segment);
    }
    return Join(kept);
  }

  std::vector<Pairing> pairings_;
  std::map<std::string, Row> rows_;  // by RowName
  std::vector<std::string> order_;   // row names in the order first reported
};

inline benchmark::ConsoleReporter::OutputOptions ConsoleOptions() {
  return isatty(STDOUT_FILENO) ? benchmark::ConsoleReporter::OO_ColorTabular
                               : benchmark::ConsoleReporter::OO_Tabular;
}

// Initializes Google Benchmark with what is left of argv, runs everything
// through a RatioReporter, and returns the process exit code.
inline int RunAll(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(ConsoleOptions());
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace lockbench

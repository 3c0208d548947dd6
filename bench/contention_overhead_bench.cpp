// contention_overhead_bench: what recording contention costs a program, side
// by side in one process, and what the recorder's and the exporter's own
// steps cost. Ends with ratio tables and a list of the speed goals, met or
// missed.
//
//   overhead/uncontended/{off,every_event}
//       parklock_mutex_lock + unlock on one thread of a threaded process, with
//       recording off and on. Recording hooks only slow paths: the two should
//       be equal.
//   overhead/contended/{off,every_event,sampled}/threads:N
//       mutex_bench's contended counter (contended_counter.h) on parklock,
//       recording off, on with a stack for every contended event, and on
//       with a stack for 1 in --sample events.
//   overhead/paired/{every_event,sampled}/threads:N
//       the same workload in --pairs pairs of back-to-back windows of
//       --pair_ms, one with recording off and one on, in random order:
//       both windows of a pair see the same load from the rest of the
//       machine. Reports the median over the pairs of the on/off ratio of
//       acquisitions per second (acq_ratio) and per CPU-second (cpu_ratio).
//       On a shared machine this is the steadier figure: the side-by-side
//       rows above move by 20 % from one window to the next.
//   record/wait/{no_stack,sampled,stack}
//       one record of a wait, without the lock algorithm around it: the probe
//       a slow path makes when it starts to wait (clock, lock name, site
//       lookup, maybe a stack), a park reported, and the acquisition (clock,
//       wait histogram). no_stack: recording with no stack capture; sampled:
//       1 in --sample events takes a stack, the others go to the lock's last
//       sampled site; stack: a stack every time (depth 8).
//   record/wait_and_hold/{no_stack,sampled,stack}
//       the same, and the hold that follows timed (its end: clock, hold
//       histogram): the waiter's whole share of a contended acquisition.
//   record/holder/{no_stack,stack}
//       an unlock that woke waiters charging its holder's site (with
//       sample_every 1 it takes a stack too).
//   scrape/{warm,cold}/sites:1000
//       what a scrape of 1000 sites returns: take_snapshot + metric_families
//       + prometheus::TextSerializer, the symbolizer's cache warm (every
//       scrape after the first) and cold (a new Symbolizer: the first scrape).
//   fast_path/{before_mode_check,now,inline_raw_mutex}
//       uncontended lock+unlock through parklock_mutex_lock/unlock (now);
//       through a copy of those entry points without the check observe-only
//       mode added (commit 2cd3922); and RawMutex inlined (the floor: no
//       call, no kind or mode check, no owner store).
//
// Flags (besides Google Benchmark's):
//   --threads=4,16      contended thread counts
//   --duration_ms=1000  length of one contended window
//   --sample=100        the sampled rows' 1-in-N
//   --pairs=15          windows pairs per paired row
//   --pair_ms=200       length of one paired window
//   --print_scrape=1    write the text the scrape rows return to stderr, once
#include <link.h>
#include <pthread.h>
#include <sys/single_threaded.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <prometheus/text_serializer.h>

#include "contended_counter.h"
#include "contention_recorder.h"
#include "exporter_abi.h"
#include "lock_bench_util.h"
#include "lock_names.h"
#include "metric_families.h"
#include "mutex_ops.h"
#include "parklock.h"
#include "snapshot.h"
#include "stack_capture.h"
#include "symbolizer.h"

namespace {

using namespace parklock;
using lockbench::ParklockLocks;

constexpr int kStackDepth = 8;  // the recorder's default
int g_sample_every = 100;       // --sample
bool g_capture_loaded = false;  // stack_capture_init, in main
bool g_print_scrape = false;    // --print_scrape

enum class Recording { kOff, kEveryEvent, kSampled, kNoStack };

// Sets the recorder as a row needs it. Rows run one at a time, on the
// benchmark's main thread, so each sets the mode it wants first.
bool SetRecording(Recording mode) {
  if (mode == Recording::kOff) {
    recorder::stop();
    return true;
  }
  recorder::Config config;
  config.stack_depth = kStackDepth;
  config.sample_every = mode == Recording::kSampled ? g_sample_every : 1;
  config.capture_stack = mode == Recording::kNoStack ? nullptr : &stack_capture;
  return recorder::start(config);
}

bool NeedsStacks(Recording mode) { return mode == Recording::kEveryEvent || mode == Recording::kSampled; }

bool SetUpRecording(benchmark::State& state, Recording mode) {
  if (NeedsStacks(mode) && !g_capture_loaded) {
    state.SkipWithError("libunwind.so.8 could not be loaded");
    return false;
  }
  if (!SetRecording(mode)) {
    state.SkipWithError("the recorder could not start");
    return false;
  }
  return true;
}

// ---- overhead/ ----

void Uncontended(benchmark::State& state, Recording mode) {
  std::thread([] {}).join();  // a threaded process: glibc and parklock both use atomics
  if (!SetUpRecording(state, mode)) return;
  pthread_mutex_t m;
  parklock_mutex_init(&m, nullptr);
  for (auto _ : state) {
    parklock_mutex_lock(&m);
    parklock_mutex_unlock(&m);
  }
  parklock_mutex_destroy(&m);
  recorder::stop();
}

double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

// Besides acq_per_s, acquisitions per CPU-second of the whole process
// (acq_per_cpu_s): on a machine shared with other work, how much CPU time
// the program gets varies from window to window, and the CPU time it spends
// per acquisition is what recording adds to. With recording on, also the
// share of acquisitions that were contended (went to the slow path and were
// recorded) and that parked: recording costs only those.
void Contended(benchmark::State& state, Recording mode, int threads, std::chrono::milliseconds window) {
  if (!SetUpRecording(state, mode)) return;
  const recorder::Counters& counters = recorder::counters();
  const uint64_t contended = counters.contended_acquisitions.load();
  const uint64_t parks = counters.parks.load();
  const double cpu_start = ProcessCpuSeconds();
  const uint64_t acquisitions = lockbench::ContendedCounter<ParklockLocks>(state, threads, window);
  state.counters["acq_per_cpu_s"] = double(acquisitions) / (ProcessCpuSeconds() - cpu_start);
  if (mode != Recording::kOff && acquisitions != 0) {
    state.counters["contended_frac"] = double(counters.contended_acquisitions.load() - contended) / double(acquisitions);
    state.counters["parks_frac"] = double(counters.parks.load() - parks) / double(acquisitions);
  }
  recorder::stop();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n == 0 ? 0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct PairedRun {
  int pairs;
  std::chrono::milliseconds window;
};

void ContendedPaired(benchmark::State& state, Recording mode, int threads, PairedRun run) {
  if (!SetUpRecording(state, mode)) return;
  pthread_mutex_t m;
  parklock_mutex_init(&m, nullptr);
  std::mt19937 order(12345);
  std::vector<double> acq_ratios, cpu_ratios;
  for (auto _ : state) {
    double seconds = 0;
    for (int p = 0; p < run.pairs; ++p) {
      double per_s[2], per_cpu_s[2];  // [0]: off, [1]: on
      const bool on_first = order() & 1;
      for (int w = 0; w < 2; ++w) {
        const int on = on_first ? 1 - w : w;
        SetRecording(on ? mode : Recording::kOff);
        const double cpu_start = ProcessCpuSeconds();
        const lockbench::CounterWindow window = lockbench::RunCounterWindow<ParklockLocks>(&m, threads, run.window);
        if (!window.excluded) state.SkipWithError("lost update: the lock did not exclude");
        per_s[on] = double(window.acquisitions) / window.seconds;
        per_cpu_s[on] = double(window.acquisitions) / (ProcessCpuSeconds() - cpu_start);
        seconds += window.seconds;
      }
      acq_ratios.push_back(per_s[1] / per_s[0]);
      cpu_ratios.push_back(per_cpu_s[1] / per_cpu_s[0]);
    }
    state.SetIterationTime(seconds);
  }
  recorder::stop();
  parklock_mutex_destroy(&m);
  state.counters["acq_ratio"] = Median(acq_ratios);
  state.counters["cpu_ratio"] = Median(cpu_ratios);
}

// ---- record/ ----

// A contended acquisition as the recorder sees it (RawMutex::wait and
// unlock_slow make these calls, in this order, around the lock algorithm).
enum class Hold { kUntimed, kTimed };

void Record(benchmark::State& state, Recording mode, Hold hold) {
  if (!SetUpRecording(state, mode)) return;
  RawMutex::Word word = 0;
  const void* timed_word = hold == Hold::kTimed ? &word : nullptr;
  const ParkOutcome parked{ParkResult::kUnparked, kTokenRetry, 5'000};
  for (auto _ : state) {
    ContentionProbe probe(LockKind::kMutex, &word);
    probe.parked(parked);
    if (probe.acquired(timed_word)) recorder::hold_ended(&word);
  }
  recorder::stop();
}

void RecordHolder(benchmark::State& state, Recording mode) {
  if (!SetUpRecording(state, mode)) return;
  RawMutex::Word word = 0;
  for (auto _ : state) recorder::unlock_woke(LockKind::kMutex, &word, 5'000);
  recorder::stop();
}

// ---- scrape/ ----

// A site table of its own, filled with `count` distinct sites, as a scrape
// reads it. Each site's innermost frame is a distinct address in this
// program's code (so the symbolizer resolves `count` different addresses,
// to many functions and lines); the frames under it are a real captured
// stack. A third of the sites are on named locks, a third on static locks
// (labelled by their variable's symbol), a third on heap locks (anonymous).
class ScrapeFixture {
 public:
  static constexpr int kNamedLocks = 24;

  explicit ScrapeFixture(int count) {
    if (!table_.init(NextPowerOfTwo(2 * size_t(count)))) return;
    const CodeRange code = MainProgramCode();
    uintptr_t stack[kStackDepth] = {};
    const int depth = g_capture_loaded ? stack_capture(stack, kStackDepth, 0) : 0;
    heap_locks_.resize(count);
    for (int i = 0; i < count; ++i) {
      uintptr_t pcs[kStackDepth];
      pcs[0] = code.begin + 16 + uintptr_t(i) * ((code.size - 32) / uintptr_t(count));
      for (int f = 1; f < kStackDepth; ++f) pcs[f] = f < depth ? stack[f] : 0;
      char name[lock_names::kMaxNameLength + 1] = "";
      const void* lock = LockFor(i);
      const uint64_t name_hash = lock_names::read(lock, name);
      const SiteKey key{LockKind(i % kLockKinds), name_hash, name, reinterpret_cast<uintptr_t>(lock), pcs,
                        std::max(depth, 1)};
      Site& site = table_.find_or_insert(key);
      for (uint64_t k = 1; k <= 16; ++k) {
        site.wait.add(k * k * 997 * uint64_t(i + 1) % 50'000'000 + 1'000);
        site.hold.add(k * 7919 * uint64_t(i + 1) % 1'000'000 + 1'000);
      }
      if (i % 2 == 0) {
        site.caused_wait_ns.fetch_add(uint64_t(i + 1) * 12'345, std::memory_order_relaxed);
        site.caused_wakeups.fetch_add(uint64_t(i % 7 + 1), std::memory_order_relaxed);
      }
    }
    counters_.contended_acquisitions.store(uint64_t(count) * 16, std::memory_order_relaxed);
    counters_.parks.store(uint64_t(count) * 8, std::memory_order_relaxed);
    context_.version = parklock_version();
    context_.sites = &table_;
    context_.counters = &counters_;
    context_.recorder_config = &recorder::config();
    context_.read_named_locks = &lock_names::read_counts;
  }

  // "" if the fill came out short.
  std::string Check(int count) const {
    if (!table_.ready()) return "the site table could not be mapped";
    if (table_.used() != size_t(count) || table_.dropped_events() != 0) return "the site table lost sites";
    return "";
  }

  // What a scrape returns.
  std::string Scrape(Symbolizer& symbolizer) const {
    const Snapshot snapshot = take_snapshot(context_, symbolizer);
    const std::vector<prometheus::MetricFamily> families =
        metric_families(snapshot, {.top_k = 50, .version = context_.version, .observe_only = false});
    return prometheus::TextSerializer().Serialize(families);
  }

  // Named before any row runs (main), so that every row sees a program
  // with named locks in it.
  static void NameLocks() {
    for (int i = 0; i < kNamedLocks; ++i) {
      const std::string name = "scrape_lock_" + std::to_string(i);
      parklock_mutex_init(&named_locks_[i], nullptr);
      parklock_set_mutex_name(&named_locks_[i], name.c_str());
      parklock_mutex_lock(&named_locks_[i]);  // counted: read_counts reports it
      parklock_mutex_unlock(&named_locks_[i]);
    }
  }

 private:
  struct CodeRange {
    uintptr_t begin = 0;
    uintptr_t size = 0;
  };

  // The main program's executable segment.
  static CodeRange MainProgramCode() {
    CodeRange range;
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* out) {
          for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)& ph = info->dlpi_phdr[i];
            if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
              *static_cast<CodeRange*>(out) = {info->dlpi_addr + ph.p_vaddr, ph.p_memsz};
              return 1;
            }
          }
          return 0;  // the main program comes first; this never runs past it
        },
        &range);
    return range;
  }

  static size_t NextPowerOfTwo(size_t n) {
    size_t p = 1;
    while (p < n) p *= 2;
    return p;
  }

  const void* LockFor(int i) const {
    switch (i % 3) {
      case 0: return &named_locks_[i % kNamedLocks];
      case 1: return &static_locks_[i % kStaticLocks];
      default: return &heap_locks_[i];
    }
  }

  static constexpr int kStaticLocks = 64;
  static pthread_mutex_t named_locks_[kNamedLocks];
  static pthread_mutex_t static_locks_[kStaticLocks];

  SiteTable table_;
  recorder::Counters counters_;
  ExporterContext context_;
  std::vector<pthread_mutex_t> heap_locks_;
};

pthread_mutex_t ScrapeFixture::named_locks_[kNamedLocks];
pthread_mutex_t ScrapeFixture::static_locks_[kStaticLocks];

// Built at the first scrape row and kept: a SiteTable is never unmapped.
const ScrapeFixture& Fixture(int count) {
  static const ScrapeFixture* fixture = new ScrapeFixture(count);
  return *fixture;
}

void CountScrape(benchmark::State& state, const std::string& text) {
  int samples = 0;
  for (size_t at = 0; at < text.size();) {
    const size_t end = text.find('\n', at);
    if (text[at] != '#') ++samples;
    at = end == std::string::npos ? text.size() : end + 1;
  }
  state.counters["bytes"] = double(text.size());
  state.counters["samples"] = samples;
}

void ScrapeWarm(benchmark::State& state, int count) {
  const ScrapeFixture& fixture = Fixture(count);
  if (std::string error = fixture.Check(count); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  static Symbolizer symbolizer;  // warm: the first row's first scrape fills its cache
  std::string text = fixture.Scrape(symbolizer);
  if (g_print_scrape) {
    std::fwrite(text.data(), 1, text.size(), stderr);
    g_print_scrape = false;
  }
  for (auto _ : state) {
    text = fixture.Scrape(symbolizer);
    benchmark::DoNotOptimize(text.data());
  }
  CountScrape(state, text);
}

void ScrapeCold(benchmark::State& state, int count) {
  const ScrapeFixture& fixture = Fixture(count);
  if (std::string error = fixture.Check(count); !error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  std::string text;
  for (auto _ : state) {
    auto symbolizer = std::make_unique<Symbolizer>();
    const auto start = std::chrono::steady_clock::now();
    text = fixture.Scrape(*symbolizer);
    state.SetIterationTime(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    benchmark::DoNotOptimize(text.data());
  }
  CountScrape(state, text);
}

// ---- fast_path/ ----

// parklock_mutex_lock / unlock without the observe-only check that commit
// 2cd3922 added (mutex_ops::lock and unlock as they are now, less
// `&& !observe_only()`), out of line as the API functions are. Keep in step
// with mutex_ops.h, so that the two rows differ by that check alone.
[[gnu::noinline]] int LockBeforeModeCheck(pthread_mutex_t* m) {
  using namespace mutex_ops;
  if (__builtin_expect(is_plain(kind(m)), 1)) {
    if (!(__libc_single_threaded && RawMutex::try_lock_single_threaded(word(m)))) RawMutex::lock(word(m));
    set_owner(m, current_tid());
    return 0;
  }
  return lock_general(m);
}

[[gnu::noinline]] int UnlockBeforeModeCheck(pthread_mutex_t* m) {
  using namespace mutex_ops;
  if (__builtin_expect(is_plain(kind(m)), 1)) {
    set_owner(m, 0);
    if (!(__libc_single_threaded && RawMutex::try_unlock_single_threaded(word(m)))) RawMutex::unlock(word(m));
    return 0;
  }
  return unlock_general(m);
}

enum class FastPath { kBeforeModeCheck, kNow, kInlineRawMutex };

void UncontendedFastPath(benchmark::State& state, FastPath path) {
  std::thread([] {}).join();
  recorder::stop();
  pthread_mutex_t m;
  parklock_mutex_init(&m, nullptr);
  switch (path) {
    case FastPath::kBeforeModeCheck:
      for (auto _ : state) {
        LockBeforeModeCheck(&m);
        UnlockBeforeModeCheck(&m);
      }
      break;
    case FastPath::kNow:
      for (auto _ : state) {
        parklock_mutex_lock(&m);
        parklock_mutex_unlock(&m);
      }
      break;
    case FastPath::kInlineRawMutex:
      for (auto _ : state) {
        RawMutex::lock(mutex_ops::word(&m));
        RawMutex::unlock(mutex_ops::word(&m));
        benchmark::ClobberMemory();
      }
      break;
  }
  parklock_mutex_destroy(&m);
}

// ---- goals ----

// A speed goal of the issue: a row's metric (or its ratio to a baseline row)
// against a limit.
struct Goal {
  std::string row;
  std::string baseline_row;  // "": the row's own value is checked
  std::string metric;
  bool at_most;  // value <= limit; else value >= limit
  double limit;
};

// The ratio tables, then each goal with what was measured.
class GoalReporter : public lockbench::RatioReporter {
 public:
  GoalReporter(OutputOptions options, std::vector<Pairing> pairings, std::vector<Goal> goals)
      : RatioReporter(options, std::move(pairings)), goals_(std::move(goals)) {}

  void Finalize() override {
    RatioReporter::Finalize();
    std::ostream& out = GetOutputStream();
    char line[240];
    out << "\nspeed goals (medians with --benchmark_repetitions)\n";
    std::snprintf(line, sizeof line, "%-52s %-16s %12s %12s  %s\n", "row", "metric", "measured", "goal", "");
    out << line;
    for (const Goal& goal : goals_) {
      double value = 0, base = 0;
      bool have = Find(goal.row, goal.metric, &value);
      if (have && !goal.baseline_row.empty()) {
        have = Find(goal.baseline_row, goal.metric, &base) && base != 0;
        value = have ? value / base : 0;
      }
      const std::string what = goal.baseline_row.empty() ? goal.metric : goal.metric + " ratio";
      char limit[32];
      std::snprintf(limit, sizeof limit, "%s %g", goal.at_most ? "<=" : ">=", goal.limit);
      const bool met = goal.at_most ? value <= goal.limit : value >= goal.limit;
      std::snprintf(line, sizeof line, "%-52s %-16s %12.4g %12s  %s\n", goal.row.c_str(), what.c_str(), value,
                    limit, !have ? "not run" : met ? "met" : "MISSED");
      out << line;
    }
    out.flush();
  }

 private:
  std::vector<Goal> goals_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::vector<int> thread_counts = lockbench::TakeIntListFlag(&argc, argv, "threads", {4, 16});
  const std::chrono::milliseconds window(lockbench::TakeIntFlag(&argc, argv, "duration_ms", 1000));
  g_sample_every = int(lockbench::TakeIntFlag(&argc, argv, "sample", 100));
  g_print_scrape = lockbench::TakeIntFlag(&argc, argv, "print_scrape", 0) != 0;
  const PairedRun paired{int(lockbench::TakeIntFlag(&argc, argv, "pairs", 15)),
                         std::chrono::milliseconds(lockbench::TakeIntFlag(&argc, argv, "pair_ms", 200))};
  // As the preload does at start: libunwind loaded, the main thread ready.
  g_capture_loaded = stack_capture_init();
  ScrapeFixture::NameLocks();

  constexpr int kScrapeSites = 1000;
  benchmark::RegisterBenchmark("overhead/uncontended/off", Uncontended, Recording::kOff);
  benchmark::RegisterBenchmark("overhead/uncontended/every_event", Uncontended, Recording::kEveryEvent);
  for (int threads : thread_counts) {
    for (auto [mode, label] : {std::pair{Recording::kOff, "off"}, std::pair{Recording::kEveryEvent, "every_event"},
                               std::pair{Recording::kSampled, "sampled"}}) {
      const std::string name = std::string("overhead/contended/") + label + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), Contended, mode, threads, window)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (int threads : thread_counts) {
    for (auto [mode, label] : {std::pair{Recording::kEveryEvent, "every_event"}, std::pair{Recording::kSampled, "sampled"}}) {
      const std::string name = std::string("overhead/paired/") + label + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(name.c_str(), ContendedPaired, mode, threads, paired)
          ->Iterations(1)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
  for (auto [hold, prefix] : {std::pair{Hold::kUntimed, "record/wait/"}, std::pair{Hold::kTimed, "record/wait_and_hold/"}}) {
    for (auto [mode, label] : {std::pair{Recording::kNoStack, "no_stack"}, std::pair{Recording::kSampled, "sampled"},
                               std::pair{Recording::kEveryEvent, "stack"}}) {
      benchmark::RegisterBenchmark((std::string(prefix) + label).c_str(), Record, mode, hold);
    }
  }
  benchmark::RegisterBenchmark("record/holder/no_stack", RecordHolder, Recording::kNoStack);
  benchmark::RegisterBenchmark("record/holder/stack", RecordHolder, Recording::kEveryEvent);
  const std::string sites = "/sites:" + std::to_string(kScrapeSites);
  benchmark::RegisterBenchmark(("scrape/warm" + sites).c_str(), ScrapeWarm, kScrapeSites)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(("scrape/cold" + sites).c_str(), ScrapeCold, kScrapeSites)
      ->Iterations(1)
      ->UseManualTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("fast_path/before_mode_check", UncontendedFastPath, FastPath::kBeforeModeCheck);
  benchmark::RegisterBenchmark("fast_path/now", UncontendedFastPath, FastPath::kNow);
  benchmark::RegisterBenchmark("fast_path/inline_raw_mutex", UncontendedFastPath, FastPath::kInlineRawMutex);

  std::vector<Goal> goals = {
      {"overhead/uncontended/every_event", "overhead/uncontended/off", "cpu ns/iter", true, 1.02},
  };
  for (int threads : thread_counts) {
    const std::string suffix = "/threads:" + std::to_string(threads);
    goals.push_back({"overhead/contended/sampled" + suffix, "overhead/contended/off" + suffix, "acq_per_s", false, 0.97});
    goals.push_back({"overhead/paired/sampled" + suffix, "", "acq_ratio", false, 0.97});
    goals.push_back({"overhead/paired/sampled" + suffix, "", "cpu_ratio", false, 0.97});
    goals.push_back(
        {"overhead/contended/every_event" + suffix, "overhead/contended/off" + suffix, "acq_per_s", false, 0.90});
    goals.push_back({"overhead/paired/every_event" + suffix, "", "acq_ratio", false, 0.90});
    goals.push_back({"overhead/paired/every_event" + suffix, "", "cpu_ratio", false, 0.90});
  }
  goals.push_back({"record/wait/no_stack", "", "cpu ns/iter", true, 100});
  goals.push_back({"record/wait/stack", "", "cpu ns/iter", true, 3000});
  goals.push_back({"scrape/warm" + sites, "", "cpu ms/iter", true, 20});

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  GoalReporter reporter(
      lockbench::ConsoleOptions(),
      {{"recording on vs off (ratio = on / off; above 1 is better for acq_per_s, below 1 for ns/iter)", "off",
        {"every_event", "sampled"}},
       {"fast path vs before the observe-only check (ratio = row / before_mode_check)", "before_mode_check",
        {"now", "inline_raw_mutex"}}},
      std::move(goals));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

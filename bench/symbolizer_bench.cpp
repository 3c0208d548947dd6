// symbolizer_bench: the cost of a stack on the lock path and of naming it
// later.
//
//   stack_capture/main_thread/depth:N   parklock::stack_capture of N frames
//                                       from 12 frames down, on the thread
//                                       stack_capture_init readied; every
//                                       address seen before (the steady state
//                                       of a contended call-site)
//   stack_capture/glibc_backtrace       glibc's backtrace() (libgcc's
//                                       unwinder) on the same stack: baseline
//   stack_capture/ready_thread          on a new thread readied with
//                                       stack_capture_thread_init
//   stack_capture/unready_thread        on a new thread never readied: the
//                                       plain unw_step walk
//   resolve/cold_symbolizer             a new Symbolizer resolving one
//                                       address: the loaded objects read, this
//                                       file's DWARF loaded, the address
//                                       looked up
//   resolve/cold_address                a new address in a module already read
//   resolve/warm, describe/warm         an address already resolved (the cache)
//   data_symbol/warm                    a static mutex's name, symbols read
//
// This program defines malloc (passing to glibc's), so stack_capture treats it
// as a process with its own allocator and does not ready threads on their
// first capture; otherwise the unready row would measure the fast trace too.
#include <execinfo.h>
#include <link.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "stack_capture.h"
#include "symbolizer.h"

extern "C" void* __libc_malloc(size_t size);
extern "C" void* malloc(size_t size) { return __libc_malloc(size); }

namespace {

constexpr int kStackHeight = 12;

// Runs `body` kStackHeight frames below the caller, so there is a stack to
// walk and every walk sees the same return addresses.
template <typename Body>
__attribute__((noipa)) void at_depth(int height, const Body& body) {
  if (height == 0) {
    body();
  } else {
    at_depth(height - 1, body);
  }
  benchmark::ClobberMemory();  // keep the frame: no tail call
}

bool g_capture_loaded = false;  // set by main, before any benchmark runs

void capture_loop(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  at_depth(kStackHeight, [&] {
    uintptr_t pcs[parklock::kMaxStackDepth];
    for (auto _ : state) {
      benchmark::DoNotOptimize(parklock::stack_capture(pcs, depth, 0));
      benchmark::ClobberMemory();
    }
  });
}

void StackCaptureMainThread(benchmark::State& state) {
  if (!g_capture_loaded) {
    state.SkipWithError("libunwind.so.8 could not be loaded");
    return;
  }
  capture_loop(state);
}

// The whole loop on a thread of its own (State's timers read that thread's
// CPU clock), readied first or not.
template <bool kReadyThread>
void StackCaptureNewThread(benchmark::State& state) {
  if (!g_capture_loaded) {
    state.SkipWithError("libunwind.so.8 could not be loaded");
    return;
  }
  std::thread([&] {
    if (kReadyThread) parklock::stack_capture_thread_init();
    capture_loop(state);
  }).join();
}

void GlibcBacktrace(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  at_depth(kStackHeight, [&] {
    void* pcs[parklock::kMaxStackDepth];
    for (auto _ : state) {
      benchmark::DoNotOptimize(backtrace(pcs, depth));
      benchmark::ClobberMemory();
    }
  });
}

// A return address in this program, with DWARF behind it.
__attribute__((noipa)) uintptr_t known_return_address() {
  uintptr_t pc = 0;
  parklock::stack_capture(&pc, 1, 0);
  return pc;
}

void ResolveColdSymbolizer(benchmark::State& state) {
  const uintptr_t pc = known_return_address();
  for (auto _ : state) {
    parklock::Symbolizer symbolizer;
    benchmark::DoNotOptimize(symbolizer.resolve(pc));
  }
}

// Addresses spread over this executable's code, one per 16 bytes.
std::vector<uintptr_t> addresses_in_own_code() {
  std::vector<uintptr_t> addresses;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* out = static_cast<std::vector<uintptr_t>*>(data);
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
          const uintptr_t begin = info->dlpi_addr + segment.p_vaddr;
          for (uintptr_t pc = begin + 16; pc < begin + segment.p_memsz; pc += 16) out->push_back(pc);
        }
        return 1;  // the main executable only
      },
      &addresses);
  return addresses;
}

void ResolveColdAddress(benchmark::State& state) {
  const std::vector<uintptr_t> addresses = addresses_in_own_code();
  auto symbolizer = std::make_unique<parklock::Symbolizer>();
  symbolizer->resolve(addresses.front());
  size_t next = 1;
  for (auto _ : state) {
    if (next == addresses.size()) {
      // Every address is cached now: start over with a symbolizer that has
      // read the module but none of these addresses.
      state.PauseTiming();
      symbolizer = std::make_unique<parklock::Symbolizer>();
      symbolizer->resolve(addresses.front());
      next = 1;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(symbolizer->resolve(addresses[next++]));
  }
}

void ResolveWarm(benchmark::State& state) {
  const uintptr_t pc = known_return_address();
  parklock::Symbolizer symbolizer;
  symbolizer.resolve(pc);
  for (auto _ : state) benchmark::DoNotOptimize(symbolizer.resolve(pc));
}

void DescribeWarm(benchmark::State& state) {
  const uintptr_t pc = known_return_address();
  parklock::Symbolizer symbolizer;
  symbolizer.describe(pc);
  for (auto _ : state) benchmark::DoNotOptimize(symbolizer.describe(pc));
}

std::mutex g_bench_mutex;

void DataSymbolWarm(benchmark::State& state) {
  parklock::Symbolizer symbolizer;
  const auto address = reinterpret_cast<uintptr_t>(&g_bench_mutex);
  symbolizer.data_symbol(address);
  for (auto _ : state) benchmark::DoNotOptimize(symbolizer.data_symbol(address));
}

}  // namespace

BENCHMARK(StackCaptureMainThread)
    ->Name("stack_capture/main_thread")->ArgName("depth")->Arg(1)->Arg(8)->Arg(64);
BENCHMARK(GlibcBacktrace)->Name("stack_capture/glibc_backtrace")->ArgName("depth")->Arg(8);
BENCHMARK(StackCaptureNewThread<true>)->Name("stack_capture/ready_thread")->ArgName("depth")->Arg(8);
BENCHMARK(StackCaptureNewThread<false>)
    ->Name("stack_capture/unready_thread")->ArgName("depth")->Arg(8);
BENCHMARK(ResolveColdSymbolizer)->Name("resolve/cold_symbolizer")->Unit(benchmark::kMillisecond);
BENCHMARK(ResolveColdAddress)->Name("resolve/cold_address")->Unit(benchmark::kMicrosecond);
BENCHMARK(ResolveWarm)->Name("resolve/warm");
BENCHMARK(DescribeWarm)->Name("describe/warm");
BENCHMARK(DataSymbolWarm)->Name("data_symbol/warm");

int main(int argc, char** argv) {
  g_capture_loaded = parklock::stack_capture_init();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

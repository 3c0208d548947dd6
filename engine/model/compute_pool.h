// The CPU backend's compute threads: one forward pass runs as a series of
// phases (a layer's norms, GEMMs, attention...), each split over the calling
// thread and N-1 workers, which meet at a barrier before the next phase
// reads what the last one wrote.
//
// The barrier is an ordinary std::mutex ("compute_pool") and two
// std::condition_variables, as in many C++ inference engines: every phase
// costs one wake-up of the workers and one hand-off back, so lock latency
// sits on the step's critical path (which is what a parking lock is for).
//
// Thread safety: run() is called by one thread at a time (the model's
// owner); workers only touch the phase they are given.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace parklock::engine {

class ComputePool {
 public:
  // threads >= 1; with 1, run() calls the function inline and takes no lock.
  explicit ComputePool(int threads);
  ~ComputePool();
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(part, parts) once for every part in [0, parts), parts ==
  // size(), on all threads at once (the caller takes part 0), and returns
  // when every call has returned. The first exception thrown by any part is
  // rethrown here, after the barrier.
  template <typename Fn>
  void run(Fn&& fn) {
    if (workers_.empty()) {
      fn(0, 1);
      return;
    }
    run_erased(&fn, [](void* f, int part, int parts) { (*static_cast<Fn*>(f))(part, parts); });
  }

 private:
  using Invoke = void (*)(void*, int, int);
  void run_erased(void* fn, Invoke invoke);
  void worker(int part);
  void call(int part) noexcept;

  std::mutex mu_;                 // "compute_pool"
  std::condition_variable start_cv_;  // a new phase (or stop) for the workers
  std::condition_variable done_cv_;   // the last worker finished the phase
  void* fn_ = nullptr;            // guarded by mu_, read by workers after a start
  Invoke invoke_ = nullptr;
  uint64_t phase_ = 0;            // guarded by mu_: phases started so far
  int running_ = 0;               // guarded by mu_: workers still in the phase
  bool stopping_ = false;         // guarded by mu_
  std::exception_ptr error_;      // guarded by mu_: first failure of the phase
  std::vector<std::thread> workers_;
};

// [begin, end) of `n` items for `part` of `parts`, in multiples of `align`
// (except the last part's end), so parts split columns on vector boundaries.
struct PartRange {
  int begin;
  int end;
};
PartRange part_range(int n, int part, int parts, int align = 1);

}  // namespace parklock::engine

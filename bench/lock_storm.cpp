// lock_storm: a small contended server-like program for the demo and the A/B
// runs. Producers push jobs onto a bounded queue (std::mutex +
// std::condition_variable), workers pop them, do a little work, and record
// results in a shared table under another mutex. It links nothing of
// parklock: the preload takes its locks over unmodified.
//
// Prints the checksum of all results (identical with and without the
// preload) and the throughput.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  int producers = 4;
  int workers = 8;
  int jobs_per_producer = 200000;
  size_t queue_capacity = 256;
};

class JobQueue {
 public:
  explicit JobQueue(size_t capacity) : capacity_(capacity) {}

  void push(uint64_t job) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return jobs_.size() < capacity_; });
    jobs_.push_back(job);
    not_empty_.notify_one();
  }

  // False once closed and drained.
  bool pop(uint64_t* job) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return !jobs_.empty() || closed_; });
    if (jobs_.empty()) return false;
    *job = jobs_.front();
    jobs_.pop_front();
    not_full_.notify_one();
    return true;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<uint64_t> jobs_;  // guarded by mutex_
  size_t capacity_;
  bool closed_ = false;  // guarded by mutex_
};

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

int parse_flag(int argc, char** argv, const char* name, int fallback) {
  std::string prefix = std::string("--") + name + "=";
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]).rfind(prefix, 0) == 0) return std::atoi(argv[i] + prefix.size());
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  opt.producers = parse_flag(argc, argv, "producers", opt.producers);
  opt.workers = parse_flag(argc, argv, "workers", opt.workers);
  opt.jobs_per_producer = parse_flag(argc, argv, "jobs", opt.jobs_per_producer);

  JobQueue queue(opt.queue_capacity);
  std::mutex results_mutex;
  uint64_t checksum = 0;  // guarded by results_mutex
  uint64_t completed = 0;  // guarded by results_mutex

  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < opt.workers; ++w) {
    workers.emplace_back([&] {
      uint64_t job;
      while (queue.pop(&job)) {
        uint64_t result = job;
        for (int i = 0; i < 16; ++i) result = mix(result);
        std::lock_guard lock(results_mutex);
        checksum += result;  // order-independent, so the total is deterministic
        ++completed;
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < opt.producers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < opt.jobs_per_producer; ++i) queue.push(uint64_t(p) << 32 | uint64_t(i));
    });
  }
  for (auto& t : producers) t.join();
  queue.close();
  for (auto& t : workers) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("jobs=%llu checksum=%016llx\n", (unsigned long long)completed,
              (unsigned long long)checksum);
  std::fprintf(stderr, "throughput: %.0f jobs/s (%.3f s, %d producers, %d workers)\n",
               completed / seconds, seconds, opt.producers, opt.workers);
  return 0;
}

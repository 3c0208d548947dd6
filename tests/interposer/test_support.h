// test_support.h: clocks, a hang watchdog, and child-process reaping.
//
// Sleeps in this suite are bounded delays (e.g. "hold the lock a while"),
// never synchronization: every handoff the tests rely on is explicit.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace parklock_test {

inline int64_t NowNs(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

inline timespec ToTimespec(int64_t ns) {
  return timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

inline int64_t ToNs(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

// An absolute deadline `ns` nanoseconds from now on `clock`.
inline timespec DeadlineIn(clockid_t clock, int64_t ns) { return ToTimespec(NowNs(clock) + ns); }

inline constexpr int64_t kMs = 1'000'000;
inline constexpr int64_t kSec = 1'000'000'000;

// Turns a hang into a failure: if the watchdog is not destroyed within
// `limit`, it names the scenario on stderr and aborts the test binary (a lost
// wakeup cannot be recovered from inside the process). Its own wait uses the
// C++ library, i.e. glibc's locks, so it does not depend on the code under
// test.
class Watchdog {
 public:
  Watchdog(std::string what, std::chrono::seconds limit)
      : what_(std::move(what)), thread_([this, limit] { Watch(limit); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> g(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  void Watch(std::chrono::seconds limit) {
    std::unique_lock<std::mutex> g(mu_);
    if (!cv_.wait_for(g, limit, [this] { return done_; })) {
      std::fprintf(stderr, "WATCHDOG: '%s' did not finish within %llds: hang (lost wakeup or deadlock)\n",
                   what_.c_str(), static_cast<long long>(limit.count()));
      std::fflush(stderr);
      std::abort();
    }
  }

  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// How a child process ended, as seen by WaitForChild.
struct ChildOutcome {
  bool exited = false;     // exited normally (see status)
  int status = -1;         // exit status when exited
  bool timed_out = false;  // still running at the deadline: it was killed
  int signal = 0;          // killing signal when it died from one
};

// Waits for `pid` up to `limit`, polling (a child cannot notify us through a
// lock we may have broken); a child still running then is SIGKILLed.
inline ChildOutcome WaitForChild(pid_t pid, std::chrono::seconds limit) {
  ChildOutcome out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int wstatus = 0;
    pid_t r = waitpid(pid, &wstatus, WNOHANG);
    if (r == pid) {
      if (WIFEXITED(wstatus)) {
        out.exited = true;
        out.status = WEXITSTATUS(wstatus);
      } else if (WIFSIGNALED(wstatus)) {
        out.signal = WTERMSIG(wstatus);
      }
      return out;
    }
    if (r < 0) return out;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &wstatus, 0);
      out.timed_out = true;
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

inline std::string Describe(const ChildOutcome& o) {
  if (o.timed_out) return "child hung and was killed";
  if (o.exited) return "child exited with status " + std::to_string(o.status);
  return "child died from signal " + std::to_string(o.signal);
}

// Runs `f` on a new thread and returns its result (for "by another thread" cases).
inline int OnOtherThread(const std::function<int()>& f) {
  int result = -1;
  std::thread t([&] { result = f(); });
  t.join();
  return result;
}

// A deterministic per-thread random stream (xorshift64*).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t Next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 0x2545F4914F6CDD1Dull;
  }
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>(Next() % n); }

 private:
  uint64_t s_;
};

}  // namespace parklock_test

// Guards shared by the lock test suites: turning a hang into a failure.
//
// Both use the C++ library, i.e. glibc's locks and waitpid, never the code
// under test.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

namespace parklock_test {

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

}  // namespace parklock_test

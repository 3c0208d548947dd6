// Clang thread-safety annotations for the serving core.
//
// Under clang (-Wthread-safety) these let the compiler check that every
// access to a "guarded by" field happens with its lock held. Other compilers
// see empty macros, so the annotations cost nothing there.
//
// std::mutex is not annotated as a capability in libstdc++, so guarded state
// uses the small wrappers below (AnnotatedMutex, MutexLock), which are plain
// std::mutex underneath: the preload still swaps the pthread mutex inside.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#if defined(__clang__)
#define PARKLOCK_TSA(x) __attribute__((x))
#else
#define PARKLOCK_TSA(x)
#endif

#define CAPABILITY(x) PARKLOCK_TSA(capability(x))
#define SCOPED_CAPABILITY PARKLOCK_TSA(scoped_lockable)
#define GUARDED_BY(x) PARKLOCK_TSA(guarded_by(x))
#define PT_GUARDED_BY(x) PARKLOCK_TSA(pt_guarded_by(x))
#define REQUIRES(...) PARKLOCK_TSA(requires_capability(__VA_ARGS__))
#define REQUIRES_SHARED(...) PARKLOCK_TSA(requires_shared_capability(__VA_ARGS__))
#define ACQUIRE(...) PARKLOCK_TSA(acquire_capability(__VA_ARGS__))
#define RELEASE(...) PARKLOCK_TSA(release_capability(__VA_ARGS__))
#define EXCLUDES(...) PARKLOCK_TSA(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS PARKLOCK_TSA(no_thread_safety_analysis)

namespace parklock::engine {

// A std::mutex that clang's analysis knows as a capability.
class CAPABILITY("mutex") AnnotatedMutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  // The underlying mutex, for naming and for std::condition_variable waits.
  std::mutex& native() { return m_; }

 private:
  std::mutex m_;
};

// A std::shared_mutex that clang's analysis knows as a capability.
class CAPABILITY("shared_mutex") AnnotatedSharedMutex {
 public:
  void lock() ACQUIRE() { m_.lock(); }
  void unlock() RELEASE() { m_.unlock(); }
  void lock_shared() PARKLOCK_TSA(acquire_shared_capability()) { m_.lock_shared(); }
  void unlock_shared() PARKLOCK_TSA(release_shared_capability()) { m_.unlock_shared(); }
  std::shared_mutex& native() { return m_; }

 private:
  std::shared_mutex m_;
};

// Scoped exclusive holder of an AnnotatedSharedMutex.
class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(AnnotatedSharedMutex& m) ACQUIRE(m) : m_(m) { m_.lock(); }
  ~WriterLock() RELEASE() { m_.unlock(); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  AnnotatedSharedMutex& m_;
};

// Scoped shared holder of an AnnotatedSharedMutex.
class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(AnnotatedSharedMutex& m) PARKLOCK_TSA(acquire_shared_capability(m))
      : m_(m) {
    m_.lock_shared();
  }
  ~ReaderLock() RELEASE() { m_.unlock_shared(); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  AnnotatedSharedMutex& m_;
};

// Scoped holder of an AnnotatedMutex. Exposes a std::unique_lock so a
// std::condition_variable can wait on it (the wait re-acquires before
// returning, so the capability is held again whenever user code runs).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(AnnotatedMutex& m) ACQUIRE(m) : lock_(m.native()) {}
  ~MutexLock() RELEASE() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Callers loop on their condition: waits may return spuriously. (No
  // predicate overloads: clang analyses a predicate lambda on its own and
  // cannot see that the lock is held inside it.)
  void wait(std::condition_variable& cv) { cv.wait(lock_); }
  std::cv_status wait_until(std::condition_variable& cv, std::chrono::steady_clock::time_point t) {
    return cv.wait_until(lock_, t);
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace parklock::engine

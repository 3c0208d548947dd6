// The contention recorder: the lock path's side (ContentionProbe and the
// recorder:: calls of contention_probe.h) and its start/stop.
//
// Everything here runs inside lock slow paths of any thread of the host:
// no malloc, no stdio, no pthread lock; memory is the mmap'd site table and
// initial-exec TLS. A thread inside the recorder (the unwinder may take a
// lock, ours) has `busy` set, and probes it starts then stay inactive.
#include "contention_recorder.h"

#include <time.h>

#include "lock_names.h"
#include "raw_log.h"

namespace parklock {
namespace recorder {

std::atomic<bool> g_active{false};

namespace {

// Shorter waits are a spin that just missed: counted as contended
// acquisitions, not recorded as waits (the histograms start at 1 us).
constexpr uint64_t kMinRecordedWaitNs = 1'000;

// Contended acquisitions a thread may hold at once with their hold time
// measured; deeper nesting goes unmeasured (the waits are still recorded).
constexpr int kMaxTimedHolds = 8;

// Remembers, per lock and kind, the site its last sampled wait went to, so
// that unsampled waits are charged there (exact counts, approximate stacks).
constexpr size_t kLockSiteCacheSize = 4096;

Config g_config;  // written by start() before g_active is set
SiteTable g_sites;
Counters g_counters;

struct LockSiteEntry {
  std::atomic<uintptr_t> tag{0};  // lock address ^ kind; 0: empty
  std::atomic<Site*> site{nullptr};
};
LockSiteEntry g_lock_sites[kLockSiteCacheSize];

struct TimedHold {
  const void* lock;
  Site* site;
  uint64_t since_ns;
};

struct ThreadState {
  bool busy = false;
  int sample_countdown = 0;
  int timed_holds = 0;
  TimedHold holds[kMaxTimedHolds];
};
thread_local ThreadState t_state;

uint64_t now_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000u + uint64_t(t.tv_nsec);
}

uintptr_t lock_site_tag(const void* lock, LockKind kind) {
  return reinterpret_cast<uintptr_t>(lock) ^ uintptr_t(kind) ^ 0x5a5a5a5a00000000ull;
}
LockSiteEntry& lock_site_entry(uintptr_t tag) {
  return g_lock_sites[(tag * 0x9E3779B97F4A7C15ull) >> (64 - 12)];
}
static_assert(kLockSiteCacheSize == size_t(1) << 12);

// True for the 1 in sample_every events that take a stack. Never while the
// thread is queued in the parking lot (a condvar releasing its mutex): the
// unwinder may take a lock, and a queued thread must not park.
bool take_sample(ThreadState& t) {
  if (!may_park()) return false;
  if (--t.sample_countdown > 0) return false;
  t.sample_countdown = g_config.sample_every;
  return true;
}

// The site an event of `kind` on `lock` goes to: with a fresh stack when
// sampled, else where this lock's last sampled wait went, else the site of
// its kind and name whose stack was never taken.
Site& site_for(ThreadState& t, LockKind kind, const void* lock, bool remember) {
  const uintptr_t tag = lock_site_tag(lock, kind);
  uintptr_t pcs[kMaxSiteDepth];
  int depth = 0;
  if (take_sample(t)) {
    if (g_config.capture_stack) depth = g_config.capture_stack(pcs, g_config.stack_depth, 0);
  } else if (remember) {
    LockSiteEntry& e = lock_site_entry(tag);
    Site* cached = e.site.load(std::memory_order_acquire);
    if (cached && e.tag.load(std::memory_order_acquire) == tag) return *cached;
  }
  char name[lock_names::kMaxNameLength + 1];
  const uint64_t name_hash = lock_names::read(lock, name);
  Site& site = g_sites.find_or_insert({kind, name_hash, name, reinterpret_cast<uintptr_t>(lock), pcs, depth});
  if (remember && depth > 0) {
    // Two stores, not atomic together: a reader that sees a torn pair
    // re-checks the tag after the site, and at worst uses the other lock's
    // site once.
    LockSiteEntry& e = lock_site_entry(tag);
    e.tag.store(0, std::memory_order_relaxed);
    e.site.store(&site, std::memory_order_release);
    e.tag.store(tag, std::memory_order_release);
  }
  return site;
}

}  // namespace

Counters& counters() { return g_counters; }
const Config& config() { return g_config; }
SiteTable& sites() { return g_sites; }

bool start(const Config& config) {
  g_active.store(false, std::memory_order_relaxed);
  if (!g_sites.ready() && !g_sites.init(config.site_capacity)) {
    raw_log("parklock: cannot map the contention site table; recording stays off");
    return false;
  }
  g_config = config;
  if (g_config.stack_depth < 1) g_config.stack_depth = 1;
  if (g_config.stack_depth > kMaxSiteDepth) g_config.stack_depth = kMaxSiteDepth;
  if (g_config.sample_every < 1) g_config.sample_every = 1;
  set_wait_accounting(true);
  g_active.store(true, std::memory_order_release);
  return true;
}

void stop() {
  g_active.store(false, std::memory_order_relaxed);
  set_wait_accounting(false);
}

void ignore_this_thread(bool ignored) { t_state.busy = ignored; }

void hold_ended(const void* lock) {
  ThreadState& t = t_state;
  for (int i = t.timed_holds - 1; i >= 0; --i) {
    if (t.holds[i].lock != lock) continue;
    t.holds[i].site->hold.add(now_ns() - t.holds[i].since_ns);
    t.holds[i] = t.holds[--t.timed_holds];
    return;
  }
}

void unlock_woke(LockKind kind, const void* lock, uint64_t caused_wait_ns) {
  ThreadState& t = t_state;
  if (t.busy) return;
  t.busy = true;
  Site& site = site_for(t, kind, lock, /*remember=*/false);
  site.caused_wait_ns.fetch_add(caused_wait_ns, std::memory_order_relaxed);
  site.caused_wakeups.fetch_add(1, std::memory_order_relaxed);
  t.busy = false;
}

}  // namespace recorder

void ContentionProbe::begin(LockKind kind, const void* lock) {
  recorder::ThreadState& t = recorder::t_state;
  if (t.busy) return;
  t.busy = true;
  active_ = true;
  kind_ = kind;
  lock_ = lock;
  start_ns_ = recorder::now_ns();
  // The stack is taken before the wait, not after: the thread is waiting
  // anyway, and the lock it then gets is not held any longer for it.
  site_ = &recorder::site_for(t, kind, lock, /*remember=*/true);
  t.busy = false;
}

void ContentionProbe::note_park(const ParkOutcome& outcome) {
  if (outcome.result == ParkResult::kInvalid) return;
  parked_ = true;
  recorder::g_counters.parks.fetch_add(1, std::memory_order_relaxed);
}

bool ContentionProbe::record_acquired(const void* timed_word) {
  const uint64_t now = recorder::now_ns();
  const uint64_t waited = now - start_ns_ + extra_wait_ns_;
  recorder::g_counters.contended_acquisitions.fetch_add(1, std::memory_order_relaxed);
  if (parked_ || waited >= recorder::kMinRecordedWaitNs) site_->wait.add(waited);
  recorder::ThreadState& t = recorder::t_state;
  if (!timed_word) return false;
  // An entry for the same lock is stale (another thread unlocked it, which a
  // normal mutex allows): this hold replaces it.
  for (int i = 0; i < t.timed_holds; ++i) {
    if (t.holds[i].lock != timed_word) continue;
    t.holds[i] = {timed_word, site_, now};
    return true;
  }
  if (t.timed_holds == recorder::kMaxTimedHolds) return false;
  t.holds[t.timed_holds++] = {timed_word, site_, now};
  return true;
}

}  // namespace parklock

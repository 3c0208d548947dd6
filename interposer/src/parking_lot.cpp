#include "parking_lot.h"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <cstring>

#include "fork_reset.h"
#include "raw_log.h"
#include "thread_parker.h"
#include "word_lock.h"

namespace parklock {
namespace {

// A waiter that has been parked this long is handed the lock directly by the
// next unlock instead of racing for it (WebKit and parking_lot use ~1 ms too;
// short enough that no thread starves, long enough that handoffs, which cost
// a context switch each, stay rare under steady contention).
constexpr uint64_t kFairnessIntervalNs = 1'000'000;

// Buckets per live thread: keeps queues short when many threads park at once.
constexpr size_t kLoadFactor = 3;
constexpr size_t kMinBuckets = 64;

uint64_t monotonic_ns() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1'000'000'000u + uint64_t(t.tv_nsec);
}

// Per-thread parking state, in initial-exec TLS: constant-initialized, so
// reading it never calls into the dynamic linker or allocates.
struct ThreadData {
  ThreadParker parker;
  // The key this thread is queued on. Written under the bucket lock of the
  // key (park, requeue); read without it by the thread itself after a
  // time-out, to find the bucket it must lock.
  std::atomic<const void*> key{nullptr};
  ThreadData* next_in_queue = nullptr;  // guarded by the bucket lock
  UnparkToken unpark_token = kDefaultUnparkToken;
  ParkToken park_token = kDefaultParkToken;
  uint64_t parked_at_ns = 0;  // for fairness; guarded by the bucket lock
  uint64_t charged_ns = 0;    // waiting counted up to here (waited_ns); guarded likewise
  bool registered = false;    // counted in g_num_threads
  bool in_before_sleep = false;  // queued, running before_sleep: must not park
  // In a bucket's queue. Written under that bucket's lock (Bucket::push and
  // unlink); read without it only by the thread itself, whose record it is.
  std::atomic<bool> queued{false};
  // Taken by a park() of the thread from its start to its return (owner
  // only; unparkers read it on the next record, see is_superseded).
  std::atomic<bool> in_park{false};
  uint8_t index = 0;  // in t_records; set by the owner before it queues the record
  // Parked with Revalidate::kPeriodically (set by the owner before it queues).
  bool revalidates = false;
  // Handed a lock through its bucket's unclaimed-handoff slot: it must claim
  // it there. Written by the unparker under the bucket lock before the wake-up.
  bool handoff_tracked = false;
};

// Each park in progress on a thread takes one record: a signal handler that
// waits while its thread is parked (glibc copes, POSIX does not promise it)
// takes the next one rather than queueing the parked one a second time, which
// would cut its queue. A record whose park was left by siglongjmp out of a
// handler stays taken, maybe queued, until the thread exits. The last record
// is never queued: it marks a park that found the others taken and polls
// (park_without_record). Record 0 also carries the thread's registration.
constexpr int kRecordsPerThread = 5;
thread_local ThreadData t_records[kRecordsPerThread];

// True if the thread of `td` has started a park since td's (taken a later
// record): td's park is interrupted by a handler, or was left by siglongjmp.
// An unpark does not count on it to take a wake-up or a lock handed over.
bool is_superseded(const ThreadData* td) {
  return td->index + 1 < kRecordsPerThread && (td + 1)->in_park.load(std::memory_order_relaxed);
}

// A FIFO of threads linked through next_in_queue: a bucket's queue, or the
// threads an unpark call has taken out of one.
struct ThreadQueue {
  ThreadData* head = nullptr;
  ThreadData* tail = nullptr;

  void push(ThreadData* td) {
    td->next_in_queue = nullptr;
    if (tail) tail->next_in_queue = td;
    else head = td;
    tail = td;
  }
};

// Bucket layout: one cache line each, so that unrelated locks do not
// false-share their bucket lock.
struct alignas(64) Bucket : ThreadQueue {  // the queue is guarded by `lock`
  WordLock lock;
  // A lock handed to a thread that has not claimed it yet (claim_handoff),
  // one per bucket; guarded by `lock`. A handoff left unclaimed too long
  // passes to another waiter on the key (see sleep_revalidating).
  ThreadData* handoff_to = nullptr;
  const void* handoff_key = nullptr;
  uint64_t handoff_at_ns = 0;

  void push(ThreadData* td) {
    ThreadQueue::push(td);
    td->queued.store(true, std::memory_order_relaxed);
  }
  // Unlinks `td`, whose predecessor is `prev` (nullptr if it is the head).
  void unlink(ThreadData* prev, ThreadData* td) {
    if (prev) prev->next_in_queue = td->next_in_queue;
    else head = td->next_in_queue;
    if (tail == td) tail = prev;
    td->queued.store(false, std::memory_order_relaxed);
  }
  // Unlinks `td`, which is queued here.
  void remove(ThreadData* td) {
    ThreadData* prev = nullptr;
    for (ThreadData* t = head; t != td; t = t->next_in_queue) {
      PARKLOCK_CHECK(t != nullptr);
      prev = t;
    }
    unlink(prev, td);
  }
  bool has_key(const void* key) const {
    for (ThreadData* t = head; t; t = t->next_in_queue)
      if (t->key.load(std::memory_order_relaxed) == key) return true;
    return false;
  }

  enum class Pick { kTake, kKeep, kStop };
  // Walks the threads queued on `key` in FIFO order: those pick() takes are
  // unlinked and handed to take(), in order; kStop ends the walk. Returns
  // whether threads queued on `key` remain.
  template <typename PickFn, typename TakeFn>
  bool extract(const void* key, PickFn pick, TakeFn take) {
    bool remain = false;
    ThreadData* prev = nullptr;
    for (ThreadData* td = head; td;) {
      ThreadData* next = td->next_in_queue;  // take() may reuse the link
      if (td->key.load(std::memory_order_relaxed) == key) {
        Pick p = pick(td);
        if (p == Pick::kStop) return true;
        if (p == Pick::kTake) {
          unlink(prev, td);
          take(td);
          td = next;
          continue;
        }
        remain = true;
      }
      prev = td;
      td = next;
    }
    return remain;
  }
};

struct HashTable {
  size_t num_buckets;  // a power of two
  unsigned hash_shift;  // 64 - log2(num_buckets)
  HashTable* previous;  // older tables are kept: a thread may still be reading one
  Bucket buckets[1];    // num_buckets of them

  Bucket& bucket_for(const void* key) {
    // Fibonacci hashing: spreads aligned addresses over the top bits.
    uint64_t h = uint64_t(reinterpret_cast<uintptr_t>(key)) * 0x9E3779B97F4A7C15ull;
    return buckets[h >> hash_shift];
  }
};

std::atomic<HashTable*> g_table{nullptr};
std::atomic<bool> g_wait_accounting{false};

// Under the bucket lock: the waiting of `td` since it was last counted.
uint64_t charge(ThreadData* td, uint64_t now) {
  uint64_t waited = now - td->charged_ns;
  td->charged_ns = now;
  return waited;
}

// Under the bucket lock: the same for every thread still queued on `key`.
uint64_t charge_queued(const ThreadQueue& queue, const void* key, uint64_t now) {
  uint64_t waited = 0;
  for (ThreadData* td = queue.head; td; td = td->next_in_queue)
    if (td->key.load(std::memory_order_relaxed) == key) waited += charge(td, now);
  return waited;
}
std::atomic<size_t> g_num_threads{0};

// The table of last resort: the first one, if mmap fails then (an
// address-space limit, say). Constant-initialized: kMinBuckets empty
// buckets, in place, right after the header's first one. Growth, which
// moves the queues to an mmap'd table, is retried as threads register.
constexpr unsigned kMinBucketsLog2 = __builtin_ctzll(kMinBuckets);
static_assert(kMinBuckets == size_t{1} << kMinBucketsLog2);
struct StaticTable {
  HashTable table;
  Bucket more_buckets[kMinBuckets - 1];
};
// The header's bucket is its last member and ends the (64-byte aligned)
// struct, so the other buckets follow it without a gap.
static_assert(sizeof(Bucket) == 64 && sizeof(HashTable) % alignof(Bucket) == 0);
static_assert(sizeof(StaticTable) == sizeof(HashTable) + (kMinBuckets - 1) * sizeof(Bucket));
StaticTable g_static_table{{kMinBuckets, 64 - kMinBucketsLog2, nullptr, {}}, {}};

size_t table_bytes(size_t num_buckets) { return sizeof(HashTable) + (num_buckets - 1) * sizeof(Bucket); }

// nullptr if mmap fails.
HashTable* create_table(size_t num_threads, HashTable* previous) {
  size_t n = kMinBuckets;
  while (n < num_threads * kLoadFactor) n *= 2;
  void* mem = mmap(nullptr, table_bytes(n), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  // Fresh anonymous pages are zero: every bucket is already an unlocked, empty queue.
  auto* table = static_cast<HashTable*>(mem);
  table->num_buckets = n;
  table->hash_shift = 64 - __builtin_ctzll(n);
  table->previous = previous;
  return table;
}

HashTable* get_table() {
  HashTable* table = g_table.load(std::memory_order_acquire);
  if (table) return table;
  HashTable* fresh = create_table(g_num_threads.load(std::memory_order_relaxed), nullptr);
  if (fresh == nullptr) fresh = &g_static_table.table;
  if (g_table.compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) return fresh;
  if (fresh != &g_static_table.table) munmap(fresh, table_bytes(fresh->num_buckets));
  return table;
}

// Locks the bucket of `key` in the current table (retrying if the table was
// replaced while we waited for the bucket lock).
Bucket& lock_bucket(const void* key) {
  for (;;) {
    HashTable* table = get_table();
    Bucket& bucket = table->bucket_for(key);
    bucket.lock.lock();
    if (g_table.load(std::memory_order_relaxed) == table) return bucket;
    bucket.lock.unlock();
  }
}

// Locks the buckets of two keys in a fixed order (by address) to avoid
// deadlock. Returns them as (bucket of a, bucket of b); they may be the same.
std::pair<Bucket*, Bucket*> lock_bucket_pair(const void* a, const void* b) {
  for (;;) {
    HashTable* table = get_table();
    Bucket* ba = &table->bucket_for(a);
    Bucket* bb = &table->bucket_for(b);
    Bucket* first = ba < bb ? ba : bb;
    first->lock.lock();
    if (g_table.load(std::memory_order_relaxed) != table) {
      first->lock.unlock();
      continue;
    }
    if (ba != bb) (ba < bb ? bb : ba)->lock.lock();
    return {ba, bb};
  }
}

void unlock_bucket_pair(std::pair<Bucket*, Bucket*> buckets) {
  buckets.first->lock.unlock();
  if (buckets.second != buckets.first) buckets.second->lock.unlock();
}

// Locks the bucket this thread is queued in, following requeues.
Bucket& lock_own_bucket(ThreadData* td) {
  for (;;) {
    const void* key = td->key.load(std::memory_order_relaxed);
    Bucket& bucket = lock_bucket(key);
    if (td->key.load(std::memory_order_relaxed) == key) return bucket;
    bucket.lock.unlock();
  }
}

// At thread exit: a park that never returned (siglongjmp out of a signal
// handler that interrupted the sleep) may have left a record queued. The
// next thread on the same TLS block would queue it a second time and link
// its queue into a cycle that every later unpark of the bucket walks forever.
void drop_abandoned_records() {
  for (ThreadData& td : t_records) {
    if (td.queued.load(std::memory_order_relaxed)) {
      Bucket& bucket = lock_own_bucket(&td);
      if (td.queued.load(std::memory_order_relaxed)) bucket.remove(&td);
      bucket.lock.unlock();
    }
    td.in_park.store(false, std::memory_order_relaxed);
  }
}

// Rehashes every queued thread into a table sized for `num_threads`.
void grow_table(size_t num_threads) {
  for (;;) {
    HashTable* old = get_table();
    if (old->num_buckets >= num_threads * kLoadFactor) return;
    for (size_t i = 0; i < old->num_buckets; ++i) old->buckets[i].lock.lock();
    if (g_table.load(std::memory_order_relaxed) != old) {
      for (size_t i = 0; i < old->num_buckets; ++i) old->buckets[i].lock.unlock();
      continue;
    }
    HashTable* fresh = create_table(num_threads, old);
    if (fresh == nullptr) {
      // No memory now: the old table serves on, with longer queues.
      for (size_t i = 0; i < old->num_buckets; ++i) old->buckets[i].lock.unlock();
      return;
    }
    for (size_t i = 0; i < old->num_buckets; ++i) {
      for (ThreadData* td = old->buckets[i].head; td;) {
        ThreadData* next = td->next_in_queue;
        fresh->bucket_for(td->key.load(std::memory_order_relaxed)).push(td);
        td = next;
      }
    }
    g_table.store(fresh, std::memory_order_release);
    for (size_t i = 0; i < old->num_buckets; ++i) old->buckets[i].lock.unlock();
    return;
  }
}

// Thread count bookkeeping: a thread is counted the first time it parks, and
// uncounted by a pthread key destructor when it exits.
//
// The key must be one of glibc's first 32 (PTHREAD_KEY_2NDLEVEL_SIZE): for
// the others, a thread's first pthread_setspecific callocs a second-level
// block, and from inside lock code that re-enters the host's allocator,
// perhaps while it holds the very lock we are about to wait for. So the key
// is made at load time, while indexes are low, and a later one is given
// back. Without a usable key (taken, or all 1024 in use), threads are
// counted but never uncounted, and the count stops growing the table at
// kMaxUncountedThreads: queues may then get longer, never wrong.
constexpr unsigned kKeysWithoutAllocation = 32;
constexpr size_t kMaxUncountedThreads = 1024;

enum ExitKeyState : int { kExitKeyUnknown, kExitKeyReady, kExitKeyUnusable };
pthread_key_t g_exit_key;
std::atomic<int> g_exit_key_state{kExitKeyUnknown};
WordLock g_exit_key_lock;

void on_thread_exit(void* data) {
  drop_abandoned_records();
  static_cast<ThreadData*>(data)->registered = false;
  g_num_threads.fetch_sub(1, std::memory_order_relaxed);
}

// Once: at load time, or at the first park if that comes earlier.
void create_exit_key() {
  g_exit_key_lock.lock();
  if (g_exit_key_state.load(std::memory_order_relaxed) == kExitKeyUnknown) {
    pthread_key_t key;
    bool usable = pthread_key_create(&key, on_thread_exit) == 0;
    if (usable && key >= kKeysWithoutAllocation) {
      pthread_key_delete(key);
      usable = false;
    }
    g_exit_key = key;
    g_exit_key_state.store(usable ? kExitKeyReady : kExitKeyUnusable, std::memory_order_release);
  }
  g_exit_key_lock.unlock();
}

__attribute__((constructor)) void create_exit_key_at_load() { create_exit_key(); }

void register_thread(ThreadData* td) {
  if (g_exit_key_state.load(std::memory_order_acquire) == kExitKeyUnknown) create_exit_key();
  td->registered = true;
  size_t n = g_num_threads.fetch_add(1, std::memory_order_relaxed) + 1;
  if (g_exit_key_state.load(std::memory_order_relaxed) == kExitKeyReady) {
    pthread_setspecific(g_exit_key, td);
  } else if (n > kMaxUncountedThreads) {
    n = kMaxUncountedThreads;
  }
  grow_table(n);
}

// Registers the thread on its first park, then takes its first free record
// (nullptr: all are taken).
ThreadData* claim_record() {
  if (!t_records[0].registered) register_thread(&t_records[0]);
  for (int i = 0; i < kRecordsPerThread; ++i) {
    ThreadData* td = &t_records[i];
    if (td->in_park.load(std::memory_order_relaxed)) continue;
    // A handler running between the check and the store takes and gives
    // back this same record before we go on: parks nest, last in first out.
    td->index = uint8_t(i);
    td->in_park.store(true, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    return td;
  }
  return nullptr;
}

void release_record(ThreadData* td) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  td->in_park.store(false, std::memory_order_relaxed);
}

// Links the fork reset into every program that parks (see fork_reset.h).
__attribute__((constructor)) void register_fork_handler() { register_fork_reset(); }

// The threads one unpark call wakes. Their wake-ups are published under the
// bucket lock; the futex wakes wait until the lock is released, so that the
// threads do not wake only to find the bucket still locked. Past kDeferred
// threads (a broadcast to a crowd) the rest are woken at once instead: no
// allocation in here.
class WakeList {
 public:
  // Under the bucket lock. `td` must no longer be queued.
  void add(ThreadData* td, UnparkToken token) {
    td->unpark_token = token;
    td->parker.unpark_lock();
    if (count_ < kDeferred) deferred_[count_++] = td;
    else td->parker.unpark_wake();
  }
  // After the bucket lock is released.
  void wake_all() {
    for (int i = 0; i < count_; ++i) deferred_[i]->parker.unpark_wake();
  }

 private:
  static constexpr int kDeferred = 16;
  ThreadData* deferred_[kDeferred];
  int count_ = 0;
};

}  // namespace

bool may_park() {
  for (const ThreadData& td : t_records)
    if (td.in_before_sleep) return false;
  return true;
}

void set_wait_accounting(bool on) { g_wait_accounting.store(on, std::memory_order_relaxed); }

// In a fork() child only the forking thread lives on: every queued thread is
// gone, and a bucket lock may have been held by one of them.
void reset_parking_lot_after_fork() {
  for (HashTable* table = g_table.load(std::memory_order_relaxed); table; table = table->previous) {
    for (size_t i = 0; i < table->num_buckets; ++i) {
      table->buckets[i].lock.reset_after_fork();
      table->buckets[i].head = table->buckets[i].tail = nullptr;
      table->buckets[i].handoff_to = nullptr;
    }
  }
  g_exit_key_lock.reset_after_fork();
  for (ThreadData& td : t_records) {
    td.queued.store(false, std::memory_order_relaxed);
    td.in_park.store(false, std::memory_order_relaxed);
  }
  g_num_threads.store(t_records[0].registered ? 1 : 0, std::memory_order_relaxed);
}

namespace {

// Under the thread's bucket lock: takes it out of its queue and runs
// timed_out. Returns whether other threads are still queued on its key.
bool remove_from_queue(Bucket& bucket, ThreadData* td,
                       FunctionRef<void(const void*, bool)> timed_out) {
  const void* final_key = td->key.load(std::memory_order_relaxed);
  bucket.remove(td);
  const bool others_queued = bucket.has_key(final_key);
  timed_out(final_key, !others_queued);
  return others_queued;
}

// After a time-out or a cancellation: takes the thread out of its queue,
// unless an unpark got there first. True if an unpark did (the thread then
// holds a wake-up and its token). `others_queued` (may be null) is set
// otherwise.
bool leave_queue(ThreadData* td, FunctionRef<void(const void*, bool)> timed_out,
                 bool* others_queued = nullptr) {
  Bucket& bucket = lock_own_bucket(td);
  if (td->parker.was_unparked()) {
    bucket.lock.unlock();
    return true;
  }
  const bool others = remove_from_queue(bucket, td, timed_out);
  if (others_queued) *others_queued = others;
  bucket.lock.unlock();
  return false;
}

// Revalidate::kPeriodically's intervals: the first re-check comes after a
// typical contended hold is long over, and the doubling keeps a thread parked
// behind a long hold to a few wake-ups a second.
constexpr uint64_t kFirstRevalidateNs = 1'000'000;
constexpr uint64_t kMaxRevalidateNs = 128'000'000;

// The sooner of `deadline` and `interval_ns` from now, on the deadline's
// clock; `storage` holds the time when it is the latter.
Deadline sooner_of(const Deadline& deadline, uint64_t interval_ns, timespec* storage) {
  const clockid_t clock = deadline.is_forever() ? CLOCK_MONOTONIC : deadline.clock;
  clock_gettime(clock, storage);
  const uint64_t ns = uint64_t(storage->tv_nsec) + interval_ns;
  storage->tv_sec += time_t(ns / 1'000'000'000u);
  storage->tv_nsec = long(ns % 1'000'000'000u);
  if (!deadline.is_forever() &&
      (deadline.at->tv_sec < storage->tv_sec ||
       (deadline.at->tv_sec == storage->tv_sec && deadline.at->tv_nsec <= storage->tv_nsec)))
    return deadline;
  return Deadline::on(clock, storage);
}

// A handoff to a thread that does not claim it within this time goes to
// another waiter on the same key. Its recipient is normally running within
// microseconds; one that never claims it left its wait by siglongjmp out of
// a signal handler, and the lock would otherwise stay held by nobody. A
// recipient that was merely slow finds the handoff gone and waits again.
constexpr uint64_t kUnclaimedHandoffNs = 100'000'000;

// Under the bucket lock, on a re-check of `td` (still queued on `key`):
// takes over the lock of a handoff on `key` left unclaimed too long. The
// caller then leaves the queue holding the lock.
bool take_over_unclaimed_handoff(Bucket& bucket, ThreadData* td, const void* key) {
  if (bucket.handoff_to == nullptr || bucket.handoff_key != key ||
      monotonic_ns() - bucket.handoff_at_ns < kUnclaimedHandoffNs)
    return false;
  bucket.handoff_to = nullptr;
  td->unpark_token = kHandoffToken;
  return true;
}

// Revalidate::kPeriodically's sleep. Returns kUnparked, kTimedOut (the
// deadline passed: the caller leaves the queue as after any time-out), or
// kNoLongerValid (the thread has left the queue).
ParkResult sleep_revalidating(ThreadData* td, const void* key, FunctionRef<bool()> validate,
                              FunctionRef<void(const void*, bool)> timed_out,
                              const Deadline& deadline, bool* others_queued) {
  for (uint64_t interval = kFirstRevalidateNs;; interval = std::min(2 * interval, kMaxRevalidateNs)) {
    timespec storage;
    const Deadline nap = sooner_of(deadline, interval, &storage);
    if (td->parker.park_until(nap)) return ParkResult::kUnparked;
    if (nap.at != &storage) return ParkResult::kTimedOut;
    Bucket& bucket = lock_own_bucket(td);
    if (td->parker.was_unparked() || td->key.load(std::memory_order_relaxed) != key) {
      // Woken meanwhile, or moved to a key validate() does not speak of.
      bucket.lock.unlock();
      continue;
    }
    if (take_over_unclaimed_handoff(bucket, td, key)) {
      *others_queued = remove_from_queue(bucket, td, timed_out);
      bucket.lock.unlock();
      return ParkResult::kUnparked;
    }
    const bool stays = validate();
    if (!stays) *others_queued = remove_from_queue(bucket, td, timed_out);
    bucket.lock.unlock();
    if (!stays) return ParkResult::kNoLongerValid;
  }
}

struct CancelCleanup {
  ThreadData* td;
  FunctionRef<void(const void*, bool)>* timed_out;
  const FunctionRef<void(bool, UnparkToken)>* on_cancel;
};

void leave_queue_on_cancel(void* arg) {
  auto* cleanup = static_cast<CancelCleanup*>(arg);
  bool consumed_wakeup = leave_queue(cleanup->td, *cleanup->timed_out);
  UnparkToken token = cleanup->td->unpark_token;
  release_record(cleanup->td);
  (*cleanup->on_cancel)(consumed_wakeup, token);
}

// Sleeps with asynchronous cancellation enabled, as glibc does around its own
// futex waits: only while blocked, and everything done in between (atomic
// loads, futex calls) may be abandoned at any instruction.
bool park_until_cancellable(ThreadData* td, const Deadline& deadline,
                            FunctionRef<void(const void*, bool)> timed_out,
                            const FunctionRef<void(bool, UnparkToken)>* on_cancel) {
  CancelCleanup cleanup{td, &timed_out, on_cancel};
  bool unparked;
  int old_type;
  pthread_cleanup_push(leave_queue_on_cancel, &cleanup);
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old_type);
  unparked = td->parker.park_until(deadline);
  pthread_setcanceltype(old_type, nullptr);
  pthread_cleanup_pop(0);
  return unparked;
}

bool has_passed(const Deadline& deadline) {
  if (deadline.is_forever()) return false;
  timespec now;
  clock_gettime(deadline.clock, &now);
  return now.tv_sec > deadline.at->tv_sec ||
         (now.tv_sec == deadline.at->tv_sec && now.tv_nsec >= deadline.at->tv_nsec);
}

// Every record of the thread is taken (parks nested in signal handlers, or
// left by siglongjmp): wait without queueing. A short nap, then a spurious
// wake-up (the caller looks at its lock again), or the time-out.
constexpr long kPollNapNs = 1'000'000;
ParkOutcome park_without_record(const void* key, FunctionRef<bool()> validate,
                                FunctionRef<void()> before_sleep,
                                FunctionRef<void(const void*, bool)> timed_out,
                                const Deadline& deadline) {
  Bucket* bucket = &lock_bucket(key);
  bool valid = validate();
  bucket->lock.unlock();
  if (!valid) return {ParkResult::kInvalid};
  before_sleep();
  const uint64_t start = monotonic_ns();
  timespec nap{0, kPollNapNs};
  const int saved_errno = errno;  // EINTR is no error of the caller's
  nanosleep(&nap, nullptr);
  errno = saved_errno;
  ParkOutcome outcome{ParkResult::kUnparked, kDefaultUnparkToken};
  if (has_passed(deadline)) {
    bucket = &lock_bucket(key);
    timed_out(key, !bucket->has_key(key));
    bucket->lock.unlock();
    outcome.result = ParkResult::kTimedOut;
  }
  outcome.waited_ns = monotonic_ns() - start;
  return outcome;
}

// After a wake-up with a tracked handoff: takes it out of the bucket's slot,
// or, if another waiter took it over meanwhile (take_over_unclaimed_handoff),
// turns it into a plain wake-up: the lock is not ours, race for it.
void claim_handoff(ThreadData* td) {
  Bucket& bucket = lock_own_bucket(td);
  if (bucket.handoff_to == td) bucket.handoff_to = nullptr;
  else td->unpark_token = kDefaultUnparkToken;
  td->handoff_tracked = false;
  bucket.lock.unlock();
}

}  // namespace

ParkOutcome park(const void* key, FunctionRef<bool()> validate, FunctionRef<void()> before_sleep,
                 FunctionRef<void(const void*, bool)> timed_out, ParkToken park_token,
                 const Deadline& deadline, const FunctionRef<void(bool, UnparkToken)>* on_cancel,
                 Revalidate revalidate) {
  ThreadData* td = claim_record();
  if (td == nullptr || td->index == kRecordsPerThread - 1) {
    ParkOutcome outcome = park_without_record(key, validate, before_sleep, timed_out, deadline);
    if (td) release_record(td);
    return outcome;
  }
  {
    Bucket& bucket = lock_bucket(key);
    if (!validate()) {
      bucket.lock.unlock();
      release_record(td);
      return {ParkResult::kInvalid};
    }
    td->key.store(key, std::memory_order_relaxed);
    td->park_token = park_token;
    td->unpark_token = kDefaultUnparkToken;
    td->revalidates = revalidate == Revalidate::kPeriodically && !on_cancel;
    td->parked_at_ns = td->charged_ns = monotonic_ns();
    td->parker.prepare_park();
    bucket.push(td);
    bucket.lock.unlock();
  }

  td->in_before_sleep = true;
  before_sleep();
  td->in_before_sleep = false;

  bool others_queued = false;
  ParkResult result;
  if (on_cancel) {
    result = park_until_cancellable(td, deadline, timed_out, on_cancel) ? ParkResult::kUnparked
                                                                        : ParkResult::kTimedOut;
  } else if (revalidate == Revalidate::kPeriodically) {
    result = sleep_revalidating(td, key, validate, timed_out, deadline, &others_queued);
  } else {
    result = td->parker.park_until(deadline) ? ParkResult::kUnparked : ParkResult::kTimedOut;
  }
  // Timed out, unless an unpark got in between: the bucket lock settles it.
  if (result == ParkResult::kTimedOut && leave_queue(td, timed_out, &others_queued))
    result = ParkResult::kUnparked;
  // Both written under the bucket lock by whoever last moved us; an unpark
  // publishes them before our wake-up, leave_queue read them under the lock.
  if (result == ParkResult::kUnparked && td->handoff_tracked) claim_handoff(td);
  ParkOutcome outcome{result,
                      result == ParkResult::kUnparked ? td->unpark_token : kDefaultUnparkToken};
  outcome.others_queued = result != ParkResult::kUnparked && others_queued;
  outcome.waited_ns = monotonic_ns() - td->parked_at_ns;
  outcome.requeued = td->key.load(std::memory_order_relaxed) != key;
  release_record(td);
  return outcome;
}

UnparkResult unpark_one(const void* key, FunctionRef<UnparkToken(UnparkResult)> callback) {
  Bucket& bucket = lock_bucket(key);
  UnparkResult result;
  ThreadData* chosen = nullptr;
  // Superseded threads are woken too (they retry, or see a spurious wake-up
  // once their handler returns), but the wake-up that counts goes on to the
  // next thread in line.
  ThreadQueue superseded;
  result.have_more_threads = bucket.extract(
      key, [&](ThreadData*) { return chosen ? Bucket::Pick::kStop : Bucket::Pick::kTake; },
      [&](ThreadData* td) {
        if (is_superseded(td)) superseded.push(td);
        else chosen = td;
      });
  WakeList woken;
  for (ThreadData* td = superseded.head; td;) {
    ThreadData* next = td->next_in_queue;  // read before td may run again
    woken.add(td, kDefaultUnparkToken);
    td = next;
  }
  if (chosen) {
    const uint64_t now = monotonic_ns();
    result.unparked_threads = 1;
    // A thread that re-checks can have a handoff taken over if it never
    // claims it, which needs the bucket's one slot: while that is taken,
    // its lock is released instead (the thread races for it).
    const bool trackable = !chosen->revalidates || bucket.handoff_to == nullptr;
    result.be_fair = trackable && now - chosen->parked_at_ns >= kFairnessIntervalNs;
    if (g_wait_accounting.load(std::memory_order_relaxed))
      result.waited_ns = charge(chosen, now) + charge_queued(bucket, key, now);
    const UnparkToken token = callback(result);
    if (token == kHandoffToken && chosen->revalidates) {
      bucket.handoff_to = chosen;
      bucket.handoff_key = key;
      bucket.handoff_at_ns = now;
      chosen->handoff_tracked = true;
    }
    woken.add(chosen, token);
  } else {
    callback(result);
  }
  bucket.lock.unlock();
  woken.wake_all();
  return result;
}

UnparkResult unpark_filter(const void* key, FunctionRef<FilterOp(ParkToken)> filter,
                           FunctionRef<UnparkToken(UnparkResult)> callback) {
  Bucket& bucket = lock_bucket(key);
  UnparkResult result;
  ThreadQueue chosen;
  result.have_more_threads = bucket.extract(
      key,
      [&](ThreadData* td) {
        switch (filter(td->park_token)) {
          case FilterOp::kUnpark: return Bucket::Pick::kTake;
          case FilterOp::kSkip: return Bucket::Pick::kKeep;
          case FilterOp::kStop: break;
        }
        return Bucket::Pick::kStop;
      },
      [&](ThreadData* td) {
        chosen.push(td);
        ++result.unparked_threads;
      });
  if (chosen.head) {
    const uint64_t now = monotonic_ns();
    // Fairness is judged by the longest waiter among those woken.
    result.be_fair = now - chosen.head->parked_at_ns >= kFairnessIntervalNs;
    if (g_wait_accounting.load(std::memory_order_relaxed)) {
      result.waited_ns = charge_queued(bucket, key, now);
      for (ThreadData* td = chosen.head; td; td = td->next_in_queue) result.waited_ns += charge(td, now);
    }
  }
  UnparkToken token = callback(result);
  WakeList woken;
  for (ThreadData* td = chosen.head; td;) {
    ThreadData* next = td->next_in_queue;  // read before td may run again
    woken.add(td, token);
    td = next;
  }
  bucket.lock.unlock();
  woken.wake_all();
  return result;
}

size_t unpark_all(const void* key, UnparkToken token) {
  return unpark_filter(
             key, [](ParkToken) { return FilterOp::kUnpark; },
             [token](UnparkResult) { return token; })
      .unparked_threads;
}

UnparkResult unpark_requeue(const void* from, const void* to, FunctionRef<RequeueOp()> validate,
                            FunctionRef<UnparkToken(RequeueOp, UnparkResult)> callback) {
  auto buckets = lock_bucket_pair(from, to);
  Bucket& source = *buckets.first;
  UnparkResult result;
  RequeueOp op = validate();
  if (op == RequeueOp::kAbort) {
    unlock_bucket_pair(buckets);
    return result;
  }
  const bool wake_first = op == RequeueOp::kUnparkOne || op == RequeueOp::kUnparkOneRequeueRest;
  const bool move_rest = op == RequeueOp::kRequeueAll || op == RequeueOp::kUnparkOneRequeueRest;
  ThreadData* wakeup = nullptr;
  ThreadQueue moved;
  result.have_more_threads = source.extract(
      from,
      [&](ThreadData*) {
        return (wake_first && wakeup == nullptr) || move_rest ? Bucket::Pick::kTake
                                                              : Bucket::Pick::kStop;
      },
      [&](ThreadData* td) {
        if (wake_first && wakeup == nullptr) {
          wakeup = td;
        } else {
          moved.push(td);
          ++result.requeued_threads;
        }
      });
  if (moved.head) {
    // Their wait for the lock starts now, for fairness purposes.
    uint64_t now = monotonic_ns();
    Bucket& target = *buckets.second;
    for (ThreadData* td = moved.head; td;) {
      ThreadData* next = td->next_in_queue;
      td->key.store(to, std::memory_order_relaxed);
      td->parked_at_ns = td->charged_ns = now;
      target.push(td);
      td = next;
    }
  }
  if (wakeup) {
    result.unparked_threads = 1;
    result.be_fair = monotonic_ns() - wakeup->parked_at_ns >= kFairnessIntervalNs;
  }
  UnparkToken token = callback(op, result);
  WakeList woken;
  if (wakeup) woken.add(wakeup, token);
  unlock_bucket_pair(buckets);
  woken.wake_all();
  return result;
}

}  // namespace parklock

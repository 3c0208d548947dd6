// raw_rwlock.h: the parking reader-writer lock algorithm on a 32-bit state word.
//
// State word (the first 4 bytes of pthread_rwlock_t, glibc's `__readers`):
//
//   bit  0     kParked        threads (readers or writers) may be parked on the
//                             word's address, the main key; an unlock that sees
//                             it must go through the parking lot
//   bit  1     kWriterParked  writer preference only: the writer that holds
//                             kWriter is parked on the writer key (address + 1
//                             byte), waiting for the readers to leave
//   bit  2     kWriter        a writer holds the lock, or (writer preference)
//                             has claimed it and waits for the readers to leave
//   bits 3-30  readers        number of read locks held (the count stops at
//                             kMaxReaders: EAGAIN; it never carries into bit 31)
//   bit  31    kTimed         the write holder's contended acquisition is being
//                             timed by the contention recorder: its unlock goes
//                             through the slow path to end the hold (set and
//                             cleared only by that writer, with kWriter held)
//
// All-zero is "unlocked, nobody parked", so PTHREAD_RWLOCK_INITIALIZER and
// zeroed memory work. Who may change what:
//   - kWriter is set by a CAS that sees the lock free (for the preference in
//     use), and cleared only by its holder (unlock, or a claim given up on
//     time-out). Readers and kWriter coexist under writer preference, while
//     the claimant waits for the readers already inside, and for an instant
//     under either, while a reader's fast-path increment that met kWriter is
//     taken back (it never holds the lock).
//   - kParked is set by a thread about to park (and checked again by park's
//     validate under the bucket lock of the main key), and cleared only under
//     that bucket lock, when the queue is found empty. So "kParked clear"
//     means "main queue empty" whenever that bucket lock is held.
//   - kWriterParked: the same rule for the writer key, which only the kWriter
//     claimant ever parks on (at most one thread).
//
// Preferences (the pthread kind, __flags):
//   - Reader preference (PTHREAD_RWLOCK_PREFER_READER_NP and PREFER_WRITER_NP,
//     which glibc also treats as reader preference): a reader gets in whenever
//     no writer holds the lock, waiting writers or not, so a thread that
//     already reads never deadlocks on a recursive read lock. A writer needs
//     the lock completely free; under a continuous stream of overlapping
//     readers it waits as long as the stream lasts, exactly as with glibc.
//     Eventual fairness cannot be had here without tracking each reader: a
//     writer that blocked new readers would deadlock a recursive reader.
//   - Writer preference (PREFER_WRITER_NONRECURSIVE_NP): a writer claims
//     kWriter as soon as no other writer has it, even with readers inside;
//     new readers then wait, so no writer starves under a read-heavy load.
//     A recursive read lock deadlocks once a writer waits (as with glibc).
//
// Queues: readers and writers park on the main key with a park token saying
// which they are, so an exclusive unlock can choose (unpark_filter):
//   - reader preference: every parked reader, each handed a read lock (the
//     count is raised for them under the bucket lock), so that, as with
//     glibc, the waiting readers get the lock and a parked writer does not
//     race them for it; only if no reader is parked, the first writer;
//   - writer preference: if the first in line is a writer, only it, handing
//     it the lock directly (kWriter stays set) once it has waited past the
//     parking lot's fairness interval; otherwise every reader and the first
//     writer, which claims the lock at once and keeps later readers out.
// The last reader to leave wakes the writer that waits for it: the claimant
// on the writer key (writer preference), or the first writer on the main key
// (reader preference). A woken thread retries unless its token is
// kTokenHandoff (the lock, or a read lock, is already its).
//
// Fast paths (inline): read lock = one fetch_add of a reader, kept while
// kWriter is clear; write lock = one CAS 0 -> kWriter; read unlock = one fetch_sub;
// write unlock = one CAS kWriter -> 0. No allocation, syscall or clock read.
// Everything else is out of line in raw_rwlock.cpp.
#pragma once

#include <atomic>
#include <cstdint>

#include "lock_algorithm.h"
#include "parking_lot.h"
#include "raw_log.h"

namespace parklock {

class RawRwLock {
 public:
  // The state word: `unsigned& word`, accessed only through std::atomic_ref.
  // Its address is the main parking key.
  using Word = unsigned;
  static constexpr Word kParked = 1u << 0;
  static constexpr Word kWriterParked = 1u << 1;
  static constexpr Word kWriter = 1u << 2;
  static constexpr Word kOneReader = 1u << 3;
  static constexpr Word kReaderMask = 0x7FFFFFF8u;
  static constexpr Word kTimed = 1u << 31;
  static constexpr Word kMaxReaders = kReaderMask / kOneReader;
  static constexpr Word kHalfReaders = 1u << 30;  // the top reader bit

  enum class Preference { kReaders, kWriters };

  enum class Acquire {
    kAcquired,
    kBusy,            // try_* only
    kTimedOut,        // the deadline passed first
    kTooManyReaders,  // the reader count is at kMaxReaders
  };

  // Park tokens: who is waiting on the main key.
  static constexpr ParkToken kTokenReader = 1;
  static constexpr ParkToken kTokenWriter = 2;
  // Unpark tokens.
  static constexpr UnparkToken kTokenRetry = parklock::kTokenRetry;      // the lock changed: race for it
  static constexpr UnparkToken kTokenHandoff = parklock::kTokenHandoff;  // the lock is yours (a writer's, or a read lock)

  static Acquire try_lock_shared(Word& word) {
    std::atomic_ref<Word> state(word);
    Word s = state.load(std::memory_order_relaxed);
    while (!(s & kWriter)) {
      if ((s & kReaderMask) == kReaderMask) return Acquire::kTooManyReaders;
      if (state.compare_exchange_weak(s, s + kOneReader, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return Acquire::kAcquired;
    }
    return Acquire::kBusy;
  }

  // The inline fast path of every read lock: one fetch_add, which, unlike a
  // CAS, never fails because other readers arrived at the same moment. If a
  // writer holds or has claimed the lock, the increment is taken back
  // (unlock_shared, which also does a last reader's duty) and false sends the
  // caller to the slow path. The plain load first keeps the count exact near
  // its limit: below kHalfReaders, the increments in flight (at most one per
  // thread) cannot overflow it; above, the slow path's CAS takes over.
  static bool try_lock_shared_fast(Word& word) {
    std::atomic_ref<Word> state(word);
    if (state.load(std::memory_order_relaxed) & (kWriter | kHalfReaders)) return false;
    if (__builtin_expect(!(state.fetch_add(kOneReader, std::memory_order_acquire) & kWriter), 1))
      return true;
    unlock_shared(word);
    return false;
  }

  static Acquire lock_shared(Word& word, const Deadline& deadline) {
    if (__builtin_expect(try_lock_shared_fast(word), 1)) return Acquire::kAcquired;
    return lock_shared_slow(word, deadline);
  }

  // Either preference: a write lock needs the lock free (no writer, no reader).
  static bool try_lock_exclusive(Word& word) {
    std::atomic_ref<Word> state(word);
    Word s = state.load(std::memory_order_relaxed);
    while (!(s & (kWriter | kReaderMask))) {
      if (state.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  static bool try_lock_exclusive_fast(Word& word) {
    std::atomic_ref<Word> state(word);
    Word expected = 0;
    return state.compare_exchange_strong(expected, kWriter, std::memory_order_acquire,
                                         std::memory_order_relaxed);
  }

  // False if `deadline` passed first (the lock is then not held).
  static bool lock_exclusive(Word& word, Preference pref, const Deadline& deadline) {
    if (__builtin_expect(try_lock_exclusive_fast(word), 1)) return true;
    return lock_exclusive_slow(word, pref, deadline);
  }

  static void unlock_shared(Word& word) {
    std::atomic_ref<Word> state(word);
    // Release: pairs with the acquire of the writer that next sees the count at 0.
    Word old = state.fetch_sub(kOneReader, std::memory_order_release);
    PARKLOCK_DCHECK((old & kReaderMask) != 0);
    if (__builtin_expect((old & kReaderMask) == kOneReader && (old & (kParked | kWriterParked)), 0))
      unlock_shared_slow(word);
  }

  static void unlock_exclusive(Word& word, Preference pref) {
    std::atomic_ref<Word> state(word);
    Word expected = kWriter;
    // Release: pairs with the acquire CAS of the next reader or writer.
    if (__builtin_expect(state.compare_exchange_strong(expected, 0, std::memory_order_release,
                                                       std::memory_order_relaxed),
                         1))
      return;
    unlock_exclusive_slow(word, pref, /*allow_handoff=*/true);
  }

  static Word load(Word& word) { return std::atomic_ref<Word>(word).load(std::memory_order_relaxed); }

 private:
  static Acquire lock_shared_slow(Word& word, const Deadline& deadline);
  static bool lock_exclusive_slow(Word& word, Preference pref, const Deadline& deadline);
  // Writer preference: kWriter is ours, readers are still inside.
  static bool wait_for_readers(Word& word, Preference pref, const Deadline& deadline,
                               ContentionProbe& probe);
  static void unlock_shared_slow(Word& word);
  // Clears kWriter and wakes whom the preference says. allow_handoff is false
  // when a claimant gives kWriter back with readers still inside.
  static void unlock_exclusive_slow(Word& word, Preference pref, bool allow_handoff);
  static void unlock_exclusive_to_readers(Word& word);
};

}  // namespace parklock

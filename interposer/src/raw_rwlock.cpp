#include "raw_rwlock.h"

#include "contention_probe.h"
#include "lock_algorithm.h"
#include "raw_log.h"

namespace parklock {
namespace {

// Only the writer that holds kWriter (writer preference) parks here, while
// the readers already inside finish. A separate key keeps it out of the main
// queue, so the last reader wakes exactly it and nobody else.
const void* writer_key(RawRwLock::Word& word) { return reinterpret_cast<const char*>(&word) + 1; }

}  // namespace

RawRwLock::Acquire RawRwLock::lock_shared_slow(Word& word, const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  ContentionProbe probe(LockKind::kRwlockRead, &word);
  WaitResult result = wait_for_lock<Word>(
      word,
      {.key = &word,
       .parked_bit = kParked,
       .park_token = kTokenReader,
       // Either preference: readable whenever kWriter is clear (under writer
       // preference kWriter also stands for a waiting writer).
       .try_acquire =
           [&](Word& s) {
             if (s & kWriter) return WaitStep::kBlocked;
             if ((s & kReaderMask) == kReaderMask) return WaitStep::kRefused;
             // A lost CAS means another reader got in first: retry at once.
             return state.compare_exchange_weak(s, s + kOneReader, std::memory_order_acquire,
                                                std::memory_order_relaxed)
                        ? WaitStep::kAcquired
                        : WaitStep::kRetry;
           },
       // Pairs with the exclusive unlock, which clears kWriter under the
       // main bucket lock.
       .still_held = [](Word v) { return (v & kWriter) != 0; }},
      deadline, &probe);
  // kHandedOff: a write unlock under reader preference raised the count for us.
  if (result == WaitResult::kTimedOut) return Acquire::kTimedOut;
  if (result == WaitResult::kRefused) return Acquire::kTooManyReaders;
  probe.acquired();
  return Acquire::kAcquired;
}

bool RawRwLock::lock_exclusive_slow(Word& word, Preference pref, const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  // What keeps a writer out: any holder under reader preference; under writer
  // preference only another writer (readers inside are waited for after the
  // claim, and cannot be joined by new ones).
  const Word blocked_by = pref == Preference::kWriters ? kWriter : (kWriter | kReaderMask);
  ContentionProbe probe(LockKind::kRwlockWrite, &word);
  bool readers_inside = false;
  WaitResult result = wait_for_lock<Word>(
      word,
      {.key = &word,
       .parked_bit = kParked,
       .park_token = kTokenWriter,
       .try_acquire =
           [&](Word& s) {
             if (s & blocked_by) return WaitStep::kBlocked;
             if (!state.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire,
                                              std::memory_order_relaxed))
               return WaitStep::kRetry;
             readers_inside = (s & kReaderMask) != 0;
             return WaitStep::kAcquired;
           },
       // Pairs with both unlocks: the exclusive one clears kWriter under the
       // main bucket lock; the last reader's (reader preference) takes that
       // lock to wake a writer when it sees kParked, which we set before
       // parking. So a holder that leaves after this check finds us queued,
       // and one that left before makes it fail.
       .still_held = [&](Word v) { return (v & blocked_by) != 0; }},
      deadline, &probe);
  if (result == WaitResult::kTimedOut) return false;
  // Reader bits may be set for an instant after a handoff: fast-path
  // increments being taken back.
  PARKLOCK_DCHECK(state.load(std::memory_order_relaxed) & kWriter);
  if (readers_inside && !wait_for_readers(word, pref, deadline, probe)) return false;
  if (probe.acquired(&word)) state.fetch_or(kTimed, std::memory_order_relaxed);
  return true;
}

bool RawRwLock::wait_for_readers(Word& word, Preference pref, const Deadline& deadline,
                                 ContentionProbe& probe) {
  std::atomic_ref<Word> state(word);
  WaitResult result = wait_for_lock<Word>(
      word,
      {.key = writer_key(word),
       .parked_bit = kWriterParked,
       .park_token = kTokenWriter,
       // Only the kWriter claimant parks on the writer key.
       .single_waiter = true,
       // The loop's acquire loads pair with the release fetch_sub of each
       // leaving reader, so their reads happen before our writes.
       .try_acquire = [](Word& s) { return (s & kReaderMask) ? WaitStep::kBlocked : WaitStep::kAcquired; },
       // Pairs with the last reader, which sees kWriterParked in its
       // fetch_sub and then takes the writer key's bucket lock to wake us and
       // clear the bit.
       .still_held = [](Word v) { return (v & kReaderMask) != 0; }},
      deadline, &probe);
  if (result != WaitResult::kTimedOut) return true;
  // Give the claim back: the readers inside keep reading, and whoever queued
  // behind our claim is woken. kWriterParked is already clear (the time-out
  // cleared it; nobody else waits on that key).
  unlock_exclusive_slow(word, pref, /*allow_handoff=*/false);
  return false;
}

void RawRwLock::unlock_shared_slow(Word& word) {
  std::atomic_ref<Word> state(word);
  Word s = state.load(std::memory_order_relaxed);
  if (s & kWriterParked) {
    // Writer preference: we were the last reader the claimant waited for.
    UnparkResult woke = unpark_one(writer_key(word), [&](UnparkResult) -> UnparkToken {
      state.fetch_and(~kWriterParked, std::memory_order_relaxed);
      return kTokenRetry;
    });
    recorder::note_unlock_woke(LockKind::kRwlockRead, &word, woke);
    return;
  }
  // If readers came back or a writer got in since our fetch_sub, the last of
  // them to leave has the same duty and will see kParked: nothing to do.
  if (!(s & kParked) || (s & (kWriter | kReaderMask))) return;
  // The first in line is a writer (reader preference: every exclusive unlock
  // wakes all parked readers), or, under writer preference, possibly a reader
  // left queued behind a writer woken alone; either way it retries.
  UnparkResult woke = unpark_one(&word, [&](UnparkResult result) -> UnparkToken {
    if (!result.have_more_threads) state.fetch_and(~kParked, std::memory_order_relaxed);
    return kTokenRetry;
  });
  recorder::note_unlock_woke(LockKind::kRwlockRead, &word, woke);
}

// Reader preference: as glibc, a write unlock gives the lock to every parked
// reader at once (each is handed a read lock, the count raised for it under
// the bucket lock), so a parked writer cannot race them for it; it waits for
// the last of them. Only with no reader parked is the first writer woken.
void RawRwLock::unlock_exclusive_to_readers(Word& word) {
  std::atomic_ref<Word> state(word);
  Word readers = 0;
  UnparkResult woke = unpark_filter(
      &word,
      [&](ParkToken token) {
        if (token != kTokenReader) return FilterOp::kSkip;
        ++readers;
        return FilterOp::kUnpark;
      },
      [&](UnparkResult result) -> UnparkToken {
        // Under the main bucket lock, before anyone wakes.
        const Word keep_parked = result.have_more_threads ? kParked : 0;
        Word s = state.load(std::memory_order_relaxed);
        // A CAS loop: fast-path reader increments may come and go meanwhile.
        while (!state.compare_exchange_weak(s, ((s & ~(kWriter | kTimed | kParked)) | keep_parked) + readers * kOneReader,
                                            std::memory_order_release, std::memory_order_relaxed)) {
        }
        return readers ? kTokenHandoff : kTokenRetry;
      });
  recorder::note_unlock_woke(LockKind::kRwlockWrite, &word, woke);
  if (readers != 0 || !woke.have_more_threads) return;
  // Only writers wait: the first retries (kWriter is clear, kParked kept).
  UnparkResult woke_writer = unpark_one(&word, [&](UnparkResult result) -> UnparkToken {
    if (!result.have_more_threads) state.fetch_and(~kParked, std::memory_order_relaxed);
    return kTokenRetry;
  });
  recorder::note_unlock_woke(LockKind::kRwlockWrite, &word, woke_writer);
}

void RawRwLock::unlock_exclusive_slow(Word& word, Preference pref, bool allow_handoff) {
  std::atomic_ref<Word> state(word);
  Word s = state.load(std::memory_order_relaxed);
  PARKLOCK_CHECK(s & kWriter);
  if (s & kTimed) recorder::hold_ended(&word);
  while (!(s & kParked)) {
    // Nobody to wake (a claimant giving up with readers inside lands here).
    if (state.compare_exchange_weak(s, s & ~(kWriter | kTimed), std::memory_order_release,
                                    std::memory_order_relaxed))
      return;
  }
  if (pref == Preference::kReaders) return unlock_exclusive_to_readers(word);

  // Writer preference. Decided in FIFO order, under the bucket lock.
  bool first = true;
  bool writer_alone = false;  // writer preference, a writer at the head of the line
  bool writer_chosen = false;
  auto filter = [&](ParkToken token) -> FilterOp {
    bool is_writer = token == kTokenWriter;
    if (first) {
      first = false;
      writer_alone = is_writer && pref == Preference::kWriters;
    } else if (writer_alone) {
      return FilterOp::kStop;
    }
    if (is_writer) {
      if (writer_chosen) return FilterOp::kSkip;
      writer_chosen = true;
    }
    return FilterOp::kUnpark;
  };
  bool handed_off = false;
  UnparkResult woke = unpark_filter(&word, filter, [&](UnparkResult result) -> UnparkToken {
    // Under the main bucket lock, before anyone wakes.
    if (allow_handoff && writer_alone && result.be_fair && result.unparked_threads == 1) {
      // Direct handoff: kWriter stays set for the woken writer (which times
      // its own hold, if at all).
      state.fetch_and(~(kTimed | (result.have_more_threads ? 0 : kParked)), std::memory_order_relaxed);
      handed_off = true;
      return kTokenHandoff;
    }
    Word clear = kWriter | kTimed | (result.have_more_threads ? 0 : kParked);
    state.fetch_and(~clear, std::memory_order_release);
    return kTokenRetry;
  });
  if (handed_off) recorder::note_handoff();
  recorder::note_unlock_woke(LockKind::kRwlockWrite, &word, woke);
}

}  // namespace parklock

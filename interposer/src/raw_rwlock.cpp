#include "raw_rwlock.h"

#include "raw_log.h"
#include "spin_wait.h"

namespace parklock {
namespace {

// Only the writer that holds kWriter (writer preference) parks here, while
// the readers already inside finish. A separate key keeps it out of the main
// queue, so the last reader wakes exactly it and nobody else.
const void* writer_key(RawRwLock::Word& word) { return reinterpret_cast<const char*>(&word) + 1; }

}  // namespace

RawRwLock::Acquire RawRwLock::lock_shared_slow(Word& word, const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  SpinWait spin;
  Word s = state.load(std::memory_order_relaxed);
  for (;;) {
    // Either preference: readable whenever kWriter is clear (under writer
    // preference kWriter also stands for a waiting writer).
    if (!(s & kWriter)) {
      if ((s & kReaderMask) == kReaderMask) return Acquire::kTooManyReaders;
      if (state.compare_exchange_weak(s, s + kOneReader, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return Acquire::kAcquired;
      continue;  // another reader got in first: retry at once, no spin spent
    }
    // Spin only while nobody is parked: a queue means long hold times.
    if (!(s & kParked) && spin.spin()) {
      s = state.load(std::memory_order_relaxed);
      continue;
    }
    if (!(s & kParked)) {
      if (!state.compare_exchange_weak(s, s | kParked, std::memory_order_relaxed,
                                       std::memory_order_relaxed))
        continue;
    }
    // kParked may stay set with nobody queued: the next unlock clears it.
    if (deadline.has_passed()) return Acquire::kTimedOut;
    ParkOutcome outcome = park(
        &word,
        // Under the main bucket lock. Pairs with the exclusive unlock, which
        // clears kWriter under the same lock: either it already did (we do
        // not sleep and retry) or it will find us queued and wake us.
        [&] {
          Word v = state.load(std::memory_order_relaxed);
          return (v & kWriter) && (v & kParked);
        },
        [] {},
        // Under the main bucket lock: the last waiter to leave clears the mark.
        [&](const void*, bool key_was_emptied) {
          if (key_was_emptied) state.fetch_and(~kParked, std::memory_order_relaxed);
        },
        kTokenReader, deadline);
    PARKLOCK_CHECK(outcome.result != ParkResult::kUnparked || outcome.token == kTokenRetry);
    if (outcome.result == ParkResult::kTimedOut) return Acquire::kTimedOut;
    spin.reset();
    s = state.load(std::memory_order_relaxed);
  }
}

bool RawRwLock::lock_exclusive_slow(Word& word, Preference pref, const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  // What keeps a writer out: any holder under reader preference; under writer
  // preference only another writer (readers inside are waited for after the
  // claim, and cannot be joined by new ones).
  const Word blocked_by = pref == Preference::kWriters ? kWriter : (kWriter | kReaderMask);
  SpinWait spin;
  Word s = state.load(std::memory_order_relaxed);
  for (;;) {
    if (!(s & blocked_by)) {
      if (state.compare_exchange_weak(s, s | kWriter, std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
        if ((s & kReaderMask) == 0) return true;
        return wait_for_readers(word, pref, deadline);
      }
      continue;
    }
    if (!(s & kParked) && spin.spin()) {
      s = state.load(std::memory_order_relaxed);
      continue;
    }
    if (!(s & kParked)) {
      if (!state.compare_exchange_weak(s, s | kParked, std::memory_order_relaxed,
                                       std::memory_order_relaxed))
        continue;
    }
    if (deadline.has_passed()) return false;
    ParkOutcome outcome = park(
        &word,
        // Under the main bucket lock. Pairs with both unlocks: the exclusive
        // one clears kWriter under this lock; the last reader's (reader
        // preference) takes this lock to wake a writer when it sees kParked,
        // which we set before coming here. So a holder that leaves after this
        // check finds us queued, and one that left before makes it fail.
        [&] {
          Word v = state.load(std::memory_order_relaxed);
          return (v & blocked_by) && (v & kParked);
        },
        [] {},
        [&](const void*, bool key_was_emptied) {
          if (key_was_emptied) state.fetch_and(~kParked, std::memory_order_relaxed);
        },
        kTokenWriter, deadline);
    if (outcome.result == ParkResult::kUnparked && outcome.token == kTokenHandoff) {
      // Reader bits may be set for an instant: fast-path increments being taken back.
      PARKLOCK_DCHECK(state.load(std::memory_order_relaxed) & kWriter);
      return true;
    }
    if (outcome.result == ParkResult::kTimedOut) return false;
    spin.reset();
    s = state.load(std::memory_order_relaxed);
  }
}

bool RawRwLock::wait_for_readers(Word& word, Preference pref, const Deadline& deadline) {
  std::atomic_ref<Word> state(word);
  SpinWait spin;
  // Acquire: pairs with the release fetch_sub of each leaving reader, so
  // their reads happen before our writes.
  Word s = state.load(std::memory_order_acquire);
  for (;;) {
    PARKLOCK_DCHECK(s & kWriter);
    if ((s & kReaderMask) == 0) return true;
    if (!(s & kWriterParked) && spin.spin()) {
      s = state.load(std::memory_order_acquire);
      continue;
    }
    if (!(s & kWriterParked)) {
      if (!state.compare_exchange_weak(s, s | kWriterParked, std::memory_order_acquire,
                                       std::memory_order_acquire))
        continue;
    }
    bool timed_out = deadline.has_passed();
    if (!timed_out) {
      ParkOutcome outcome = park(
          writer_key(word),
          // Under the writer key's bucket lock. Pairs with the last reader,
          // which sees kWriterParked in its fetch_sub and then takes this
          // lock to wake us and clear the bit: if it has done so, the bit
          // is clear (or the count 0) and we do not sleep.
          [&] {
            Word v = state.load(std::memory_order_relaxed);
            return (v & kWriterParked) && (v & kReaderMask);
          },
          [] {},
          [&](const void*, bool) { state.fetch_and(~kWriterParked, std::memory_order_relaxed); },
          kTokenWriter, deadline);
      timed_out = outcome.result == ParkResult::kTimedOut;
    }
    if (timed_out) {
      // Give the claim back: the readers inside keep reading, and whoever
      // queued behind our claim is woken. kWriterParked may still be set if
      // the time ran out before parking; nobody else waits on that key.
      state.fetch_and(~kWriterParked, std::memory_order_relaxed);
      unlock_exclusive_slow(word, pref, /*allow_handoff=*/false);
      return false;
    }
    spin.reset();
    s = state.load(std::memory_order_acquire);
  }
}

void RawRwLock::unlock_shared_slow(Word& word) {
  std::atomic_ref<Word> state(word);
  Word s = state.load(std::memory_order_relaxed);
  if (s & kWriterParked) {
    // Writer preference: we were the last reader the claimant waited for.
    unpark_one(writer_key(word), [&](UnparkResult) -> UnparkToken {
      state.fetch_and(~kWriterParked, std::memory_order_relaxed);
      return kTokenRetry;
    });
    return;
  }
  // If readers came back or a writer got in since our fetch_sub, the last of
  // them to leave has the same duty and will see kParked: nothing to do.
  if (!(s & kParked) || (s & (kWriter | kReaderMask))) return;
  // The first in line is a writer (reader preference: every exclusive unlock
  // wakes all parked readers), or, under writer preference, possibly a reader
  // left queued behind a writer woken alone; either way it retries.
  unpark_one(&word, [&](UnparkResult result) -> UnparkToken {
    if (!result.have_more_threads) state.fetch_and(~kParked, std::memory_order_relaxed);
    return kTokenRetry;
  });
}

void RawRwLock::unlock_exclusive_slow(Word& word, Preference pref, bool allow_handoff) {
  std::atomic_ref<Word> state(word);
  Word s = state.load(std::memory_order_relaxed);
  PARKLOCK_CHECK(s & kWriter);
  while (!(s & kParked)) {
    // Nobody to wake (a claimant giving up with readers inside lands here).
    if (state.compare_exchange_weak(s, s & ~kWriter, std::memory_order_release,
                                    std::memory_order_relaxed))
      return;
  }

  // Decided in FIFO order, under the bucket lock.
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
  unpark_filter(&word, filter, [&](UnparkResult result) -> UnparkToken {
    // Under the main bucket lock, before anyone wakes.
    if (allow_handoff && writer_alone && result.be_fair && result.unparked_threads == 1) {
      // Direct handoff: kWriter stays set for the woken writer.
      if (!result.have_more_threads) state.fetch_and(~kParked, std::memory_order_relaxed);
      return kTokenHandoff;
    }
    Word clear = kWriter | (result.have_more_threads ? 0 : kParked);
    state.fetch_and(~clear, std::memory_order_release);
    return kTokenRetry;
  });
}

}  // namespace parklock

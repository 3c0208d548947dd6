// Continuous batching: decides, before every forward pass, which sequences
// run and how many of their tokens.
//
// Policy per step, under a token budget (max_batch_tokens):
//   1. running sequences that decode (one token each), oldest first: decode
//      latency is what streaming clients feel;
//   2. running sequences still in prefill, oldest first, each a chunk of at
//      most the budget left (chunked prefill: a long prompt never stalls
//      the decodes for a whole step);
//   3. waiting sequences, first come first served, while the budget, the
//      running-set cap and the KV pool allow. Nothing new is admitted in a
//      step that had to preempt, so admissions do not evict each other in
//      a loop.
// When a running sequence needs a KV block and none is free, the newest
// running sequence not yet scheduled this step is preempted: its blocks are
// freed and it goes back to the head of the waiting queue, to be recomputed
// (its full blocks usually survive in the prefix cache, so that is cheap).
// A sequence preempts itself when nobody else can be.
//
// Thread safety: the engine loop is the only caller of everything except
// the counters (num_waiting, num_running), which observers may read. The
// "running_set" mutex guards the waiting and running lists; a Sequence's
// own fields are touched only by the engine loop.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include "engine/serving/kv_block_manager.h"
#include "engine/serving/sequence.h"
#include "engine/serving/thread_annotations.h"

namespace parklock::engine {

struct SchedulerConfig {
  int max_batch_tokens = 256;  // tokens fed to one forward pass, > 0
  int max_running = 64;        // sequences in the running set, > 0
  // Free blocks an admission must leave, so the running sequences can grow
  // by a block each without immediately preempting the newcomer.
  int watermark_blocks = 1;
};

struct ScheduledChunk {
  Sequence* seq;     // owned by the scheduler's running list
  int num_tokens;    // tokens[seq->num_computed, + num_tokens) are fed
  bool want_logits;  // the chunk ends the known tokens: sample after it
};

struct StepPlan {
  std::vector<ScheduledChunk> chunks;
  std::vector<BlockCopy> copies;  // perform before the forward pass
  int preempted = 0;
  int num_tokens = 0;

  void clear() {
    chunks.clear();
    copies.clear();
    preempted = 0;
    num_tokens = 0;
  }
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, KvBlockManager& kv);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a new sequence at the tail of the waiting list.
  void add(std::unique_ptr<Sequence> seq) EXCLUDES(mu_);

  // Fills `plan` for the next forward pass (cleared first). An empty plan
  // with sequences present means none fits right now.
  void schedule(StepPlan* plan) EXCLUDES(mu_);

  // Removes every sequence whose stream asked to be cancelled, waiting or
  // running, freeing its blocks; returns them for the caller to finish.
  std::vector<std::unique_ptr<Sequence>> take_cancelled() EXCLUDES(mu_);

  // Removes a running sequence (finished) and frees its blocks.
  std::unique_ptr<Sequence> remove_running(Sequence* seq) EXCLUDES(mu_);

  // Removes every sequence (engine shutdown), freeing blocks.
  std::vector<std::unique_ptr<Sequence>> take_all() EXCLUDES(mu_);

  bool empty() const EXCLUDES(mu_);
  int num_waiting() const EXCLUDES(mu_);
  int num_running() const EXCLUDES(mu_);
  uint64_t total_preemptions() const EXCLUDES(mu_);

 private:
  bool reserve_or_preempt_locked(Sequence* seq, int num_tokens, StepPlan* plan) REQUIRES(mu_);
  void preempt_locked(size_t running_index, StepPlan* plan) REQUIRES(mu_);
  bool admit_locked(StepPlan* plan, int* budget, int watermark) REQUIRES(mu_);

  const SchedulerConfig config_;
  KvBlockManager& kv_;

  mutable AnnotatedMutex mu_;  // "running_set"
  std::deque<std::unique_ptr<Sequence>> waiting_ GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Sequence>> running_ GUARDED_BY(mu_);  // admission order
  uint64_t preemptions_ GUARDED_BY(mu_) = 0;
  uint64_t step_ GUARDED_BY(mu_) = 0;  // schedule() calls so far
};

}  // namespace parklock::engine

#include "engine/serving/scheduler.h"

#include <algorithm>
#include <stdexcept>

#include "parklock.h"

namespace parklock::engine {

Scheduler::Scheduler(const SchedulerConfig& config, KvBlockManager& kv)
    : config_(config), kv_(kv) {
  if (config_.max_batch_tokens <= 0 || config_.max_running <= 0 || config_.watermark_blocks < 0)
    throw std::invalid_argument("SchedulerConfig: budgets must be positive");
  PARKLOCK_SET_NAME(&mu_.native(), "running_set");
}

void Scheduler::add(std::unique_ptr<Sequence> seq) {
  MutexLock lock(mu_);
  waiting_.push_back(std::move(seq));
}

void Scheduler::preempt_locked(size_t running_index, StepPlan* plan) {
  std::unique_ptr<Sequence> victim = std::move(running_[running_index]);
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(running_index));
  kv_.free_sequence(victim->id);
  victim->has_blocks = false;
  victim->num_computed = 0;
  ++victim->preemptions;
  ++preemptions_;
  ++plan->preempted;
  // Back to the head: it keeps its place ahead of requests that came later.
  waiting_.push_front(std::move(victim));
}

// Reserves KV space for the next `num_tokens` of running sequence `seq`,
// preempting newer unscheduled sequences as needed. False when `seq` itself
// had to be preempted.
bool Scheduler::reserve_or_preempt_locked(Sequence* seq, int num_tokens, StepPlan* plan) {
  const int begin = seq->num_computed;
  while (!kv_.reserve(seq->id, begin, begin + num_tokens, &plan->copies)) {
    size_t victim = running_.size();
    for (size_t i = running_.size(); i-- > 0;) {
      if (running_[i].get() != seq && running_[i]->scheduled_step != step_) {
        victim = i;
        break;
      }
    }
    if (victim == running_.size()) {
      // Nobody else to evict: step aside until space frees up.
      for (size_t i = 0; i < running_.size(); ++i)
        if (running_[i].get() == seq) victim = i;
      preempt_locked(victim, plan);
      return false;
    }
    preempt_locked(victim, plan);
  }
  return true;
}

// Moves the head of the waiting list into the running set with its first
// chunk, if the KV pool keeps `watermark` blocks free afterwards.
bool Scheduler::admit_locked(StepPlan* plan, int* budget, int watermark) {
  Sequence* seq = waiting_.front().get();
  if (!seq->has_blocks) {
    const int cached = kv_.add_sequence(seq->id, seq->tokens, seq->kv_hash_seed());
    seq->has_blocks = true;
    // At least one token must run to produce logits; if the whole context is
    // cached, its last token is recomputed (copy-on-write in a shared block).
    seq->num_computed = std::min(cached, static_cast<int>(seq->tokens.size()) - 1);
    if (seq->preemptions == 0) seq->cached_prompt_tokens = seq->num_computed;
  }
  const int n = std::min(seq->remaining_to_compute(), *budget);
  const int begin = seq->num_computed;
  if (kv_.blocks_needed(seq->id, begin, begin + n) + watermark > kv_.num_free_blocks()) {
    // Give back the prefix blocks it took; they stay cached for the retry.
    kv_.free_sequence(seq->id);
    seq->has_blocks = false;
    return false;
  }
  if (!kv_.reserve(seq->id, begin, begin + n, &plan->copies))
    throw std::logic_error("Scheduler: reserve failed after blocks_needed said it fits");
  seq->scheduled_step = step_;
  plan->chunks.push_back({seq, n, begin + n == static_cast<int>(seq->tokens.size())});
  plan->num_tokens += n;
  *budget -= n;
  running_.push_back(std::move(waiting_.front()));
  waiting_.pop_front();
  return true;
}

void Scheduler::schedule(StepPlan* plan) {
  plan->clear();
  MutexLock lock(mu_);
  ++step_;
  int budget = config_.max_batch_tokens;

  // Passes 1 and 2: decodes, then prefill chunks. Iterate over a snapshot,
  // since preemption reorders running_.
  std::vector<Sequence*> order;
  order.reserve(running_.size());
  for (const auto& s : running_)
    if (s->remaining_to_compute() == 1) order.push_back(s.get());
  for (const auto& s : running_)
    if (s->remaining_to_compute() > 1) order.push_back(s.get());
  for (Sequence* seq : order) {
    if (budget == 0) break;
    if (!seq->has_blocks) continue;  // preempted earlier in this pass
    const int n = std::min(seq->remaining_to_compute(), budget);
    if (!reserve_or_preempt_locked(seq, n, plan)) continue;
    seq->scheduled_step = step_;
    plan->chunks.push_back({seq, n, seq->num_computed + n == static_cast<int>(seq->tokens.size())});
    plan->num_tokens += n;
    budget -= n;
  }

  // Pass 3: admissions.
  if (plan->preempted > 0) return;
  while (budget > 0 && !waiting_.empty() &&
         static_cast<int>(running_.size()) < config_.max_running) {
    if (!admit_locked(plan, &budget, config_.watermark_blocks)) break;
  }
  // Liveness: with nothing running, the head of the queue may use the
  // watermark too (submit() checked that every request fits the pool).
  if (running_.empty() && !waiting_.empty()) admit_locked(plan, &budget, 0);
}

std::vector<std::unique_ptr<Sequence>> Scheduler::take_cancelled() {
  std::vector<std::unique_ptr<Sequence>> out;
  MutexLock lock(mu_);
  auto drain = [&](auto& list) {
    for (auto it = list.begin(); it != list.end();) {
      if ((*it)->stream->cancel_requested()) {
        if ((*it)->has_blocks) kv_.free_sequence((*it)->id);
        (*it)->has_blocks = false;
        out.push_back(std::move(*it));
        it = list.erase(it);
      } else {
        ++it;
      }
    }
  };
  drain(waiting_);
  drain(running_);
  return out;
}

std::unique_ptr<Sequence> Scheduler::remove_running(Sequence* seq) {
  MutexLock lock(mu_);
  for (auto it = running_.begin(); it != running_.end(); ++it) {
    if (it->get() != seq) continue;
    std::unique_ptr<Sequence> out = std::move(*it);
    running_.erase(it);
    kv_.free_sequence(out->id);
    out->has_blocks = false;
    return out;
  }
  throw std::logic_error("Scheduler: remove_running of a sequence that is not running");
}

std::vector<std::unique_ptr<Sequence>> Scheduler::take_all() {
  std::vector<std::unique_ptr<Sequence>> out;
  MutexLock lock(mu_);
  for (auto& s : running_) out.push_back(std::move(s));
  for (auto& s : waiting_) out.push_back(std::move(s));
  running_.clear();
  waiting_.clear();
  for (auto& s : out) {
    if (s->has_blocks) kv_.free_sequence(s->id);
    s->has_blocks = false;
  }
  return out;
}

bool Scheduler::empty() const {
  MutexLock lock(mu_);
  return waiting_.empty() && running_.empty();
}

int Scheduler::num_waiting() const {
  MutexLock lock(mu_);
  return static_cast<int>(waiting_.size());
}

int Scheduler::num_running() const {
  MutexLock lock(mu_);
  return static_cast<int>(running_.size());
}

uint64_t Scheduler::total_preemptions() const {
  MutexLock lock(mu_);
  return preemptions_;
}

}  // namespace parklock::engine

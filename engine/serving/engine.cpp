#include "engine/serving/engine.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <sstream>
#include <stdexcept>

#include "parklock.h"

namespace parklock::engine {
namespace {

// Default per-request seed: distinct per request, fixed for a given id.
uint64_t seed_from_id(uint64_t id) {
  uint64_t x = id + 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

Engine::Engine(ModelBackend& model, const EngineConfig& config)
    : model_(model),
      model_config_(model.config()),
      config_(config),
      tokenizer_(model_config_.vocab_size),
      kv_(KvBlockManagerConfig{config.num_kv_blocks, config.block_size}),
      scheduler_(config.scheduler, kv_) {
  PARKLOCK_SET_NAME(&queue_mu_.native(), "request_queue");
  PARKLOCK_SET_NAME(&queue_cv_, "request_queue_cv");
  model_.set_compute_threads(config_.compute_threads);
  model_.allocate_kv({.num_blocks = config_.num_kv_blocks,
                      .block_size = config_.block_size,
                      .max_step_sequences = config_.scheduler.max_running,
                      .max_step_tokens = config_.scheduler.max_batch_tokens});
  loop_thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    MutexLock lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  loop_thread_.join();
}

std::string Engine::validate(const Request& r) const {
  std::ostringstream err;
  const SamplingParams& s = r.sampling;
  const int prompt_len = static_cast<int>(r.prompt.size());
  if (prompt_len == 0) return "prompt is empty";
  for (int32_t t : r.prompt) {
    if (t < 0 || t >= model_config_.vocab_size) {
      err << "prompt token " << t << " is outside the vocabulary [0, " << model_config_.vocab_size
          << ")";
      return err.str();
    }
  }
  if (s.max_tokens <= 0) return "max_tokens must be > 0";
  if (s.top_k < 0) return "top_k must be >= 0";
  if (!(s.top_p > 0.0f && s.top_p <= 1.0f)) return "top_p must be in (0, 1]";
  if (!(s.temperature >= 0.0f)) return "temperature must be >= 0";
  if (!(s.repetition_penalty > 0.0f)) return "repetition_penalty must be > 0";
  if (!r.adapter.empty() && !model_.supports_lora()) {
    err << "LoRA adapter '" << r.adapter << "' requested, but the " << model_.name()
        << " backend cannot apply LoRA adapters (serve adapters with --device cpu)";
    return err.str();
  }
  const long total = static_cast<long>(prompt_len) + s.max_tokens;
  if (total > model_config_.max_positions) {
    err << "prompt (" << prompt_len << " tokens) + max_tokens (" << s.max_tokens
        << ") exceeds the model context of " << model_config_.max_positions << " tokens";
    return err.str();
  }
  const long blocks = (total + config_.block_size - 1) / config_.block_size;
  if (blocks > config_.num_kv_blocks) {
    err << "request needs " << blocks << " KV blocks but the pool has only "
        << config_.num_kv_blocks;
    return err.str();
  }
  return "";
}

std::string Engine::check(const Request& request) const {
  std::string error = validate(request);
  if (error.empty() && !request.adapter.empty() && !adapters_.find(request.adapter))
    error = "unknown adapter '" + request.adapter + "'";
  return error;
}

RequestHandle Engine::submit(Request request) {
  const uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  auto stream = std::make_shared<RequestStream>(id, Clock::now());
  submitted_.fetch_add(1, std::memory_order_relaxed);

  std::string error = validate(request);
  std::optional<AdapterRef> adapter;
  if (error.empty() && !request.adapter.empty()) {
    adapter = adapters_.find(request.adapter);  // held by the sequence from here on
    if (!adapter) error = "unknown adapter '" + request.adapter + "'";
  }
  if (!error.empty()) {
    RequestResult result;
    result.reason = FinishReason::kError;
    result.error = std::move(error);
    result.prompt_tokens = static_cast<int>(request.prompt.size());
    result.submit_time = result.first_token_time = result.first_scheduled_time =
        result.finish_time = stream->submit_time();
    stream->finish(std::move(result));
    finished_.fetch_add(1, std::memory_order_relaxed);
    return stream;
  }

  if (!request.sampling.seed) request.sampling.seed = seed_from_id(id);
  auto seq = std::make_unique<Sequence>(id, std::move(request), std::move(adapter), stream);
  {
    MutexLock lock(queue_mu_);
    if (!stopping_) {
      incoming_.push_back(std::move(seq));
    }
  }
  if (seq) {  // not queued: the engine is shutting down
    finish_removed(std::move(seq), FinishReason::kCancelled, "engine is shutting down");
    return stream;
  }
  queue_cv_.notify_one();
  return stream;
}

void Engine::cancel(const RequestHandle& handle) {
  // The loop only sleeps when nothing is queued or running, so a request
  // that is not finished yet is always seen by a coming step.
  if (handle) handle->request_cancel();
}

EngineStats Engine::stats() const {
  EngineStats s;
  s.submitted = submitted_.load(std::memory_order_relaxed);
  s.finished = finished_.load(std::memory_order_relaxed);
  s.generated_tokens = generated_tokens_.load(std::memory_order_relaxed);
  s.computed_tokens = computed_tokens_.load(std::memory_order_relaxed);
  s.steps = steps_.load(std::memory_order_relaxed);
  s.preemptions = scheduler_.total_preemptions();
  s.waiting = scheduler_.num_waiting();
  s.running = scheduler_.num_running();
  s.kv = kv_.stats();
  return s;
}

// Blocks while there is nothing to do; moves new requests to the
// scheduler. False when the engine is stopping.
bool Engine::wait_for_work() {
  std::deque<std::unique_ptr<Sequence>> fresh;
  {
    MutexLock lock(queue_mu_);
    while (incoming_.empty() && !stopping_ && scheduler_.empty()) lock.wait(queue_cv_);
    if (stopping_) return false;
    fresh.swap(incoming_);
  }
  for (auto& seq : fresh) scheduler_.add(std::move(seq));
  return true;
}

void Engine::loop() {
  while (wait_for_work()) {
    try {
      step();
    } catch (const std::exception& e) {
      // A failed forward pass leaves the KV state of the batch unknown:
      // fail what was running and keep serving the rest.
      for (auto& seq : scheduler_.take_all())
        finish_removed(std::move(seq), FinishReason::kError, std::string("engine step failed: ") + e.what());
    }
  }
  std::deque<std::unique_ptr<Sequence>> left;
  {
    MutexLock lock(queue_mu_);
    left.swap(incoming_);
  }
  for (auto& seq : scheduler_.take_all()) left.push_back(std::move(seq));
  for (auto& seq : left)
    finish_removed(std::move(seq), FinishReason::kCancelled, "engine is shutting down");
}

void Engine::step() {
  for (auto& seq : scheduler_.take_cancelled())
    finish_removed(std::move(seq), FinishReason::kCancelled, "");
  scheduler_.schedule(&plan_);
  if (plan_.chunks.empty()) {
    // Only cancellations were pending; the queue wait handles idleness.
    return;
  }
  run_plan();
  steps_.fetch_add(1, std::memory_order_relaxed);
}

void Engine::run_plan() {
  for (const BlockCopy& c : plan_.copies) model_.copy_kv_block(c.src, c.dst);

  const size_t n = plan_.chunks.size();
  if (block_tables_.size() < n) block_tables_.resize(n);
  seq_steps_.clear();
  int num_logits = 0;
  for (size_t i = 0; i < n; ++i) {
    const ScheduledChunk& c = plan_.chunks[i];
    Sequence* seq = c.seq;
    if (seq->first_scheduled_time == Clock::time_point{}) seq->first_scheduled_time = Clock::now();
    kv_.copy_block_table(seq->id, &block_tables_[i]);
    SeqStep s{};
    s.tokens = seq->tokens.data() + seq->num_computed;
    s.num_tokens = c.num_tokens;
    s.start_pos = seq->num_computed;
    s.block_table = block_tables_[i].data();
    s.num_blocks = static_cast<int>(block_tables_[i].size());
    s.adapter = seq->adapter ? seq->adapter->adapter.get() : nullptr;
    s.want_logits = c.want_logits;
    seq_steps_.push_back(s);
    num_logits += c.want_logits ? 1 : 0;
  }
  logits_.resize(static_cast<size_t>(num_logits) * model_config_.vocab_size);
  model_.forward(seq_steps_, logits_.data());

  done_.clear();
  int row = 0;
  for (const ScheduledChunk& c : plan_.chunks) {
    Sequence* seq = c.seq;
    seq->num_computed += c.num_tokens;
    kv_.commit(seq->id, seq->tokens, seq->num_computed);
    if (c.want_logits)
      process_token(seq, logits_.data() + static_cast<size_t>(row++) * model_config_.vocab_size);
  }
  computed_tokens_.fetch_add(plan_.num_tokens, std::memory_order_relaxed);
  for (Done& d : done_)
    finish_removed(scheduler_.remove_running(d.seq), d.reason, std::move(d.error));
}

void Engine::process_token(Sequence* seq, float* logits_row) {
  std::span<float> row(logits_row, model_config_.vocab_size);
  auto done = [&](FinishReason reason, std::string error = "") {
    done_.push_back({seq, reason, std::move(error)});
  };
  // Corrupt weights (NaN, or values so large they overflow) would otherwise
  // sample token 0 forever and end in empty text that looks like success.
  if (!std::all_of(row.begin(), row.end(), [](float x) { return std::isfinite(x); })) {
    done(FinishReason::kError,
         "the model produced non-finite logits (NaN or infinity): its weights, or the "
         "request's LoRA adapter, are corrupt");
    return;
  }
  const int32_t token = sampler_.sample(row, seq->sampling, seq->tokens, seq->rng);
  const Clock::time_point now = Clock::now();
  if (seq->first_token_time == Clock::time_point{}) seq->first_token_time = now;

  if (token == ByteTokenizer::kEos && !seq->sampling.ignore_eos) {
    done(FinishReason::kStop);
    return;
  }
  seq->tokens.push_back(token);
  generated_tokens_.fetch_add(1, std::memory_order_relaxed);
  // Ids only: the consumer decodes them and matches stop strings on its
  // own thread (output_reader.h), cancelling the request on a match.
  const TokenEvent event{token, now};
  if (seq->on_token) seq->on_token(event);
  seq->stream->push(event);
  if (seq->num_output() >= seq->sampling.max_tokens) done(FinishReason::kLength);
}

void Engine::finish_removed(std::unique_ptr<Sequence> seq, FinishReason reason,
                            std::string error) {
  RequestResult result;
  result.reason = reason;
  result.error = std::move(error);
  result.tokens.assign(seq->tokens.begin() + seq->prompt_len, seq->tokens.end());
  result.prompt_tokens = seq->prompt_len;
  result.cached_prompt_tokens = seq->cached_prompt_tokens;
  result.preemptions = seq->preemptions;
  result.submit_time = seq->stream->submit_time();
  result.first_token_time =
      seq->first_token_time == Clock::time_point{} ? result.submit_time : seq->first_token_time;
  result.first_scheduled_time = seq->first_scheduled_time == Clock::time_point{}
                                    ? result.submit_time
                                    : seq->first_scheduled_time;
  result.finish_time = Clock::now();
  finished_.fetch_add(1, std::memory_order_relaxed);
  seq->stream->finish(std::move(result));
}

}  // namespace parklock::engine

// The serving engine: a request API for many client threads in front of
// one engine loop thread that runs continuous batching over a model backend
// (engine/model/model_backend.h: the CPU or the CUDA backend).
//
//   client threads                       engine loop thread
//   --------------                       ------------------
//   submit() -> validate, build    ---->  drain "request_queue" into the
//     Sequence, push under                scheduler; drop cancelled; plan a
//     "request_queue", notify             step (Scheduler); copy-on-write
//   cancel() -> flag the stream           blocks; backend forward; sample;
//   handle->next()/wait() <-------------  stream token ids; finish at EOS
//     (per-request stream)                or max_tokens
//
// The loop does token-level work only. Turning tokens into text and
// matching stop strings is the consumer's, on its own thread: an
// OutputReader (output_reader.h) wraps the handle, and on a stop string
// cancels the request (as vLLM's output processor does outside its engine
// core). The loop sleeps on the request_queue condition variable when there
// is nothing to do. The backend is used only by the loop (it allows one
// caller).
//
// Named locks and their order (a thread holding one may take those to its
// right, never the reverse): "request_queue" -> "running_set" ->
// "kv_blocks". "adapters" is a leaf: nothing else is taken while it is held;
// so are the per-request stream mutexes, which are left unnamed (names are
// for long-lived locks: a name per request would fill the preload's name
// table with labels of freed locks). "compute_pool" is taken by the loop and
// the CPU backend's compute threads inside its forward, with nothing else held.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>
#include <vector>

#include "engine/serving/adapter_registry.h"
#include "engine/serving/kv_block_manager.h"
#include "engine/model/byte_tokenizer.h"
#include "engine/model/model_backend.h"
#include "engine/serving/request.h"
#include "engine/serving/request_stream.h"
#include "engine/serving/sampler.h"
#include "engine/serving/scheduler.h"
#include "engine/serving/sequence.h"
#include "engine/serving/thread_annotations.h"

namespace parklock::engine {

struct EngineConfig {
  int block_size = 16;       // token positions per KV block
  int num_kv_blocks = 1024;  // KV pool size; bounds running context tokens
  int compute_threads = 1;   // threads of each forward pass (ModelBackend::set_compute_threads)
  SchedulerConfig scheduler;
};

struct EngineStats {
  uint64_t submitted = 0;
  uint64_t finished = 0;
  uint64_t generated_tokens = 0;
  uint64_t computed_tokens = 0;  // tokens fed to the model: prompts, decodes, recomputes
  uint64_t steps = 0;
  uint64_t preemptions = 0;
  int waiting = 0;
  int running = 0;
  KvBlockStats kv;
};

class Engine {
 public:
  // Allocates the backend's KV pool (sized for the scheduler's largest
  // step) and starts the loop thread. `model` must outlive the engine and
  // must not be used by anyone else meanwhile.
  Engine(ModelBackend& model, const EngineConfig& config);
  // Cancels whatever is still queued or running, then joins the loop.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Thread-safe. Invalid requests (empty prompt, token out of range, too
  // long for the model or the KV pool, unknown adapter, an adapter on a
  // backend without LoRA, bad sampling settings) come back already
  // finished with FinishReason::kError.
  RequestHandle submit(Request request) EXCLUDES(queue_mu_);

  // Thread-safe. What submit() would reject `request` for, "" if nothing:
  // lets a front end answer "bad request" before anything is queued.
  std::string check(const Request& request) const;

  // Thread-safe, idempotent. The request ends with kCancelled unless it
  // finished first; its KV blocks are freed by the next engine step.
  void cancel(const RequestHandle& handle);

  AdapterRegistry& adapters() { return adapters_; }
  const ModelConfig& model_config() const { return model_config_; }
  std::string_view backend_name() const { return model_.name(); }
  const ByteTokenizer& tokenizer() const { return tokenizer_; }
  EngineStats stats() const;
  // Read-only view of the KV bookkeeping (tests check its invariants).
  const KvBlockManager& kv_blocks() const { return kv_; }

 private:
  void loop();
  bool wait_for_work() EXCLUDES(queue_mu_);
  void step();
  void run_plan();
  void process_token(Sequence* seq, float* logits_row);
  void finish_removed(std::unique_ptr<Sequence> seq, FinishReason reason, std::string error);
  std::string validate(const Request& request) const;

  // A sequence that finished during the current step.
  struct Done {
    Sequence* seq;
    FinishReason reason;
    std::string error;
  };

  ModelBackend& model_;
  const ModelConfig model_config_;
  const EngineConfig config_;
  const ByteTokenizer tokenizer_;
  AdapterRegistry adapters_;
  KvBlockManager kv_;
  Scheduler scheduler_;
  std::atomic<uint64_t> next_id_{1};
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> finished_{0};
  std::atomic<uint64_t> generated_tokens_{0};
  std::atomic<uint64_t> computed_tokens_{0};
  std::atomic<uint64_t> steps_{0};

  AnnotatedMutex queue_mu_;  // "request_queue"
  std::condition_variable queue_cv_;  // new request, cancel, or stop
  std::deque<std::unique_ptr<Sequence>> incoming_ GUARDED_BY(queue_mu_);
  bool stopping_ GUARDED_BY(queue_mu_) = false;

  // Engine-loop-only state, reused across steps to avoid per-step allocation.
  Sampler sampler_;
  StepPlan plan_;
  std::vector<SeqStep> seq_steps_;
  std::vector<std::vector<int32_t>> block_tables_;
  std::vector<float> logits_;
  std::vector<Done> done_;

  std::thread loop_thread_;  // last: starts after everything above exists
};

}  // namespace parklock::engine

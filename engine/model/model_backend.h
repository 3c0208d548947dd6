// The seam between the serving side and the hardware that runs the model:
// the serving side (engine/serving) plans each step on the host (block
// tables, chunks, which rows want logits) and a backend runs it. The CPU
// backend is `Model` (model.h); the CUDA backend is `CudaBackend`
// (cuda_backend.h, built when CMake finds nvcc). backend_select.h picks one
// at run time (--device).
//
// Every backend takes the same SeqStep batches, validates them the same way
// (std::invalid_argument for a malformed step, nothing run then) and writes
// logits to host memory, so the Engine drives them alike.
//
// Threads: a backend is not internally synchronised. allocate_kv(),
// forward(), copy_kv_block() and set_compute_threads() must be called by one
// thread at a time (the engine loop). name(), config(), supports_lora(),
// block_size() and num_kv_blocks() may be read from any thread once
// allocate_kv() has returned.
#pragma once

#include <span>
#include <string_view>

#include "engine/model/model_config.h"
#include "engine/model/seq_step.h"

namespace parklock::engine {

// What allocate_kv() provisions: the paged KV pool, and the largest step
// forward() will then be given. A backend that sizes its device buffers up
// front (CUDA) needs the step bounds; the CPU backend grows its scratch on
// demand and ignores them.
struct KvPoolConfig {
  int num_blocks = 0;            // B physical blocks, ids [0, B)
  int block_size = 0;            // S token positions per block
  int max_step_sequences = 256;  // SeqSteps per forward() call
  int max_step_tokens = 2048;    // tokens per forward() call, all steps together
};

class ModelBackend {
 public:
  virtual ~ModelBackend() = default;

  // "cpu" or "cuda": what logs and --device speak of.
  virtual std::string_view name() const = 0;
  virtual const ModelConfig& config() const = 0;
  // Whether forward() applies SeqStep::adapter. A backend without it throws
  // std::invalid_argument for a step that has one, so callers should reject
  // such requests before they are scheduled (Engine does).
  virtual bool supports_lora() const = 0;

  // Threads that compute each forward pass, where the backend has a host
  // thread pool (the CPU backend); others ignore it.
  virtual void set_compute_threads(int threads) = 0;

  // (Re)allocates the paged KV storage, zeroed. Forgets all cached keys and
  // values. Throws std::invalid_argument for non-positive sizes.
  virtual void allocate_kv(const KvPoolConfig& pool) = 0;
  virtual int block_size() const = 0;
  virtual int num_kv_blocks() const = 0;

  // Runs all steps as one batch. Each step writes the keys/values of its
  // new tokens into its block table's slots and attends causally over
  // positions [0, start_pos + i]. Steps must not write the same physical
  // slots (shared prefix blocks are read-only; copy_kv_block first). Writes
  // vocab_size floats per step with want_logits, in step order, to the host
  // buffer `logits` (which may be null when no step wants logits). Throws
  // std::invalid_argument for a malformed step (token outside the
  // vocabulary, block table too short or with ids outside the pool,
  // positions past max_positions, an adapter the backend cannot apply, a
  // step larger than allocate_kv() provisioned) and std::logic_error before
  // allocate_kv(); nothing is written to the KV cache then.
  virtual void forward(std::span<const SeqStep> steps, float* logits) = 0;

  // Copies every layer's keys and values of block src to block dst
  // (copy-on-write of a shared prefix block), ordered before the next
  // forward(). Throws std::out_of_range.
  virtual void copy_kv_block(int src_block, int dst_block) = 0;
};

}  // namespace parklock::engine

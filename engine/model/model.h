// The CPU Llama decoder of the bundled engine: the interface the serving
// side (scheduler, block manager, sampler) drives.
//
// Threads: a Model is not internally synchronised. forward(), allocate_kv()
// and copy_kv_block() must be called by one engine thread at a time (the
// thread that runs the step loop); they reuse per-model scratch buffers and
// write the KV cache. config() and block_size() may be read from any thread
// once allocate_kv() has returned. GEMMs inside forward() run on OpenBLAS's
// thread pool (kernels/cpu/gemm.h, set_gemm_threads).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/model/forward_plan.h"
#include "engine/model/kv_cache.h"
#include "engine/model/lora_adapter.h"
#include "engine/model/model_config.h"
#include "engine/model/model_weights.h"
#include "engine/model/seq_step.h"

namespace parklock::engine {

class Model {
 public:
  // Reads a safetensors checkpoint (Hugging Face Llama tensor names, any of
  // F32/F16/BF16) whose __metadata__ holds the config (model_config.h).
  // Throws SafetensorsError / std::runtime_error / std::invalid_argument
  // naming the file and the problem.
  static std::unique_ptr<Model> load(const std::string& safetensors_path);
  // The same weights write_synthetic_model(path, config, seed) would store.
  static std::unique_ptr<Model> random(const ModelConfig& config, uint64_t seed);

  const ModelConfig& config() const { return config_; }

  // (Re)allocates the paged KV storage, zeroed: fp32 [layer][block][kv_head][slot][D].
  // Forgets all cached keys and values.
  void allocate_kv(int num_blocks, int block_size);
  int block_size() const { return kv_.block_size(); }
  int num_kv_blocks() const { return kv_.num_blocks(); }

  // Runs all steps as one batch: the GEMMs see the concatenated tokens of
  // every step; attention runs per sequence over its own blocks. Each step
  // writes the keys/values of its new tokens into its block table's slots
  // and attends causally over positions [0, start_pos + i]. Steps must not
  // write the same physical slots (shared prefix blocks are read-only;
  // copy_kv_block first). Writes vocab_size floats per step with
  // want_logits, in step order, to logits (which may be null when no step
  // wants logits). Throws std::invalid_argument for a malformed step
  // (token outside the vocabulary, block table too short or with ids
  // outside the cache, positions past max_positions, an adapter for another
  // model shape) and std::logic_error before allocate_kv(); nothing is
  // written to the KV cache then.
  void forward(std::span<const SeqStep> steps, float* logits);

  // Copies every layer's keys and values of block src to block dst
  // (copy-on-write of a shared prefix block). Throws std::out_of_range.
  void copy_kv_block(int src_block, int dst_block);

 private:
  Model(const ModelConfig& config, ModelWeights weights);

  void run_layer(int layer);
  void attention(int layer);
  void compute_logits(float* logits);

  ModelConfig config_;
  ModelWeights weights_;
  PagedKvCache kv_;
  // Per-step scratch, reused across calls (hence one caller at a time).
  ForwardPlan plan_;
  ForwardWorkspace ws_;
};

}  // namespace parklock::engine

// The CPU Llama decoder of the bundled engine: the interface the serving
// side (scheduler, block manager, sampler) drives.
//
// Threads: a Model is not internally synchronised. forward(), allocate_kv(),
// copy_kv_block() and set_compute_threads() must be called by one engine
// thread at a time (the thread that runs the step loop); they reuse
// per-model scratch buffers and write the KV cache. config() and
// block_size() may be read from any thread once allocate_kv() has returned.
// Inside forward(), each layer's work is split over the model's compute pool
// (compute_pool.h); each GEMM may further use OpenBLAS's own threads
// (kernels/cpu/gemm.h, set_gemm_threads), which is only useful with a pool of 1.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "engine/model/compute_pool.h"
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

  ~Model();

  const ModelConfig& config() const { return config_; }
  // Bytes of weights held in process memory beyond the checkpoint's
  // mapping (F16/BF16 conversions, synthetic weights).
  size_t owned_weight_bytes() const { return weights_.owned_bytes(); }

  // Threads that compute each forward pass (1 = the caller alone, the default).
  void set_compute_threads(int threads);
  int compute_threads() const { return pool_->size(); }

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

  // One linear layer, its output columns split over the pool.
  struct LinearJob {
    const float* in = nullptr;      // [T, in_features]
    int in_features = 0;
    const float* weight = nullptr;  // [out_features, in_features]
    int out_features = 0;
    float* out = nullptr;           // [T, out_stride]
    int out_stride = 0;
    float beta = 0.f;               // 1 accumulates (residual)
  };

  void run_layer(int layer);
  void linear_part(const LinearJob& job, int part, int parts);
  void norm_part(const float* weight, const float* in, float* out, int part, int parts);
  void store_kv_part(int layer, int part, int parts);
  void attention_part(int layer, int part, int parts);
  void compute_logits(float* logits);

  ModelConfig config_;
  ModelWeights weights_;
  PagedKvCache kv_;
  // Per-step scratch, reused across calls (hence one caller at a time).
  ForwardPlan plan_;
  ForwardWorkspace ws_;
  std::unique_ptr<ComputePool> pool_;
};

}  // namespace parklock::engine

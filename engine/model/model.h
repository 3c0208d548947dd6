// The CPU backend of the bundled engine: the Llama decoder in fp32 on the
// kernels of kernels/cpu, with LoRA. The contract of each method, threads
// included, is ModelBackend's (model_backend.h); forward() reuses
// per-model scratch buffers, hence one caller at a time.
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
#include "engine/model/loaded_model.h"
#include "engine/model/lora_adapter.h"
#include "engine/model/model_backend.h"

namespace parklock::engine {

class Model final : public ModelBackend {
 public:
  explicit Model(LoadedModel model);
  // LoadedModel::from_checkpoint / synthetic, as a CPU model.
  static std::unique_ptr<Model> load(const std::string& safetensors_path);
  static std::unique_ptr<Model> random(const ModelConfig& config, uint64_t seed);

  ~Model() override;

  std::string_view name() const override { return "cpu"; }
  const ModelConfig& config() const override { return config_; }
  bool supports_lora() const override { return true; }
  // Bytes of weights held in process memory beyond the checkpoint's
  // mapping (F16/BF16 conversions, synthetic weights).
  size_t owned_weight_bytes() const { return weights_.owned_bytes(); }

  // 1 = the caller alone, the default.
  void set_compute_threads(int threads) override;
  int compute_threads() const { return pool_->size(); }

  // fp32 [layer][block][kv_head][slot][D]; the step bounds are not needed.
  void allocate_kv(const KvPoolConfig& pool) override;
  int block_size() const override { return kv_.block_size(); }
  int num_kv_blocks() const override { return kv_.num_blocks(); }

  // The GEMMs see the concatenated tokens of every step; attention runs per
  // sequence over its own blocks; LoRA deltas per run of rows that share an
  // adapter (one for another model shape is a malformed step).
  void forward(std::span<const SeqStep> steps, float* logits) override;
  void copy_kv_block(int src_block, int dst_block) override;

 private:
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

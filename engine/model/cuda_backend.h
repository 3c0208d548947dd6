// The CUDA backend: ModelBackend over kernels/cuda's CudaLlama (bf16
// weights and paged bf16 KV pool on device 0, cuBLASLt GEMMs), mapped from
// the engine's types by kernels/cuda/from_engine.h. Built only when CMake
// finds nvcc (PARKLOCK_HAVE_CUDA); backend_select.h is the way in.
//
// The engine drives it through forward(), with logits back in host memory
// and sampling on the host, so sampling (repetition penalty and seeds
// included) is the CPU backend's. A batch of single-token decode steps runs
// as CudaLlama::decode (a CUDA graph replayed per batch-size bucket), any
// other batch as CudaLlama::forward. CudaLlama has no LoRA path: a step
// with an adapter is a malformed step.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/model/loaded_model.h"
#include "engine/model/model_backend.h"

namespace parklock::kernels::cuda {
class CudaLlama;
struct SeqInput;
struct DecodeInput;
}  // namespace parklock::kernels::cuda

namespace parklock::engine {

class CudaBackend final : public ModelBackend {
 public:
  // Keeps the host weights (views of the mapped file for an F32 checkpoint)
  // so that each allocate_kv() can build the device state; nothing touches
  // the GPU until then.
  explicit CudaBackend(LoadedModel model);
  ~CudaBackend() override;

  std::string_view name() const override { return "cuda"; }
  const ModelConfig& config() const override { return model_.config; }
  bool supports_lora() const override { return false; }
  void set_compute_threads(int) override {}

  // Uploads the weights (fp32 -> bf16) and allocates the device KV pool
  // and activations for steps up to the pool's bounds. Throws
  // std::invalid_argument for a shape the kernels do not cover (head_dim
  // outside {16, 32, 64, 128}, more than 8 query heads per KV head) and
  // kernels::cuda::CudaError for CUDA failures (no device, out of memory).
  void allocate_kv(const KvPoolConfig& pool) override;
  int block_size() const override { return pool_.block_size; }
  int num_kv_blocks() const override { return pool_.num_blocks; }

  void forward(std::span<const SeqStep> steps, float* logits) override;
  void copy_kv_block(int src_block, int dst_block) override;

 private:
  LoadedModel model_;
  KvPoolConfig pool_{};
  std::unique_ptr<kernels::cuda::CudaLlama> llama_;
  // forward()'s steps in CudaLlama's terms, reused across calls.
  std::vector<kernels::cuda::SeqInput> inputs_;
  std::vector<kernels::cuda::DecodeInput> decode_inputs_;
  std::vector<int32_t> unused_tokens_;
};

}  // namespace parklock::engine

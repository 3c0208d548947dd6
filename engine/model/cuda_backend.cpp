#include "engine/model/cuda_backend.h"

#include <stdexcept>
#include <string>

#include "kernels/cuda/from_engine.h"

namespace parklock::engine {

namespace cuda = kernels::cuda;

CudaBackend::CudaBackend(LoadedModel model) : model_(std::move(model)) {}

CudaBackend::~CudaBackend() = default;

void CudaBackend::allocate_kv(const KvPoolConfig& pool) {
  if (pool.num_blocks <= 0 || pool.block_size <= 0 || pool.max_step_sequences <= 0 || pool.max_step_tokens <= 0)
    throw std::invalid_argument("allocate_kv: every size must be positive");
  llama_.reset();  // the old pool's device memory first
  pool_ = {};
  llama_ = std::make_unique<cuda::CudaLlama>(cuda::llama_shape(model_.config), cuda::llama_host_weights(model_.weights),
                                             cuda::CudaLlamaOptions{.num_kv_blocks = pool.num_blocks,
                                                                    .block_size = pool.block_size,
                                                                    .max_batch = pool.max_step_sequences,
                                                                    .max_forward_tokens = pool.max_step_tokens});
  pool_ = pool;
}

namespace {

// A batch of one new token per sequence, each wanting its logits: what
// CudaLlama::decode runs (a replayed CUDA graph per batch-size bucket).
bool is_decode_batch(std::span<const SeqStep> steps) {
  for (const SeqStep& s : steps)
    if (s.num_tokens != 1 || !s.want_logits) return false;
  return !steps.empty();
}

}  // namespace

void CudaBackend::forward(std::span<const SeqStep> steps, float* logits) {
  if (!llama_) throw std::logic_error("forward: allocate_kv() has not been called");
  for (size_t s = 0; s < steps.size(); ++s)
    if (steps[s].adapter != nullptr)
      throw std::invalid_argument("forward: step " + std::to_string(s) +
                                  ": the cuda backend cannot apply LoRA adapters");
  if (is_decode_batch(steps)) {
    // The engine samples on the host from the logits: the token the graph
    // picks (greedily) is not used.
    decode_inputs_.clear();
    for (const SeqStep& s : steps)
      decode_inputs_.push_back({.token = s.tokens[0],
                                .position = s.start_pos,
                                .block_table = s.block_table,
                                .num_blocks = s.num_blocks});
    unused_tokens_.resize(steps.size());
    llama_->decode(decode_inputs_, unused_tokens_.data(), logits);
    return;
  }
  inputs_.clear();
  for (const SeqStep& s : steps) inputs_.push_back(cuda::seq_input(s));
  llama_->forward(inputs_, logits);
}

void CudaBackend::copy_kv_block(int src_block, int dst_block) {
  if (!llama_) throw std::logic_error("copy_kv_block: allocate_kv() has not been called");
  llama_->copy_kv_block(src_block, dst_block);
}

}  // namespace parklock::engine

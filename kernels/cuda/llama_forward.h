// A whole Llama forward pass on one CUDA device: bf16 weights converted from
// the host's fp32 ones, a paged bf16 KV pool on the device, prefill and
// decode, and CUDA graphs for the decode step.
//
// Inputs mirror engine/model's ForwardPlan (tokens, positions, block
// tables, context lengths) in plain structs, so the engine's backend seam
// can map SeqStep onto SeqInput one to one. LoRA adapters and the
// repetition penalty are not supported on this path.
//
// Decode steps run through per-batch-size buckets (1, 2, 4, ..., max_batch):
// a batch is padded to its bucket with rows that write a reserved scratch
// KV block, so each bucket's step is captured once as a CUDA graph and
// replayed. Within a step the host only uploads the inputs (one copy) and
// reads the sampled tokens back (the one synchronisation).
//
// Threads: not internally synchronised; one thread at a time drives an
// instance (it owns a stream, scratch buffers and graph state).
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "kernels/cuda/decode_attention.cuh"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/gemm_lt.h"

namespace parklock::kernels::cuda {

struct LlamaShape {
  int vocab_size = 0;    // V
  int hidden_size = 0;   // H
  int num_layers = 0;
  int num_heads = 0;     // NH
  int num_kv_heads = 0;  // NKV
  int head_dim = 0;      // D
  int ffn_size = 0;      // F
  float rms_eps = 1e-5f;
  float rope_theta = 10000.f;
  int max_positions = 0;

  int q_dim() const { return num_heads * head_dim; }
  int kv_dim() const { return num_kv_heads * head_dim; }
  int qkv_dim() const { return q_dim() + 2 * kv_dim(); }
};

// fp32 host weights in the engine's forward layout (engine/model/
// model_weights.h); read during construction only.
struct LlamaLayerHostWeights {
  const float* attn_norm = nullptr;  // [H]
  const float* qkv = nullptr;        // [NH*D + 2*NKV*D, H]: q rows, k rows, v rows
  const float* o = nullptr;          // [H, NH*D]
  const float* mlp_norm = nullptr;   // [H]
  const float* gate_up = nullptr;    // [2F, H]: gate rows, up rows
  const float* down = nullptr;       // [H, F]
};

struct LlamaHostWeights {
  const float* embed = nullptr;  // [V, H]
  std::vector<LlamaLayerHostWeights> layers;
  const float* final_norm = nullptr;  // [H]
  const float* lm_head = nullptr;     // [V, H]; equal to embed when tied (stored once)
};

struct CudaLlamaOptions {
  int num_kv_blocks = 0;           // B physical blocks (one more is reserved for padding)
  int block_size = 16;             // S
  int max_batch = 256;             // sequences per step; decode buckets up to this
  int max_forward_tokens = 2048;   // T per forward() call
  bool use_graphs = true;          // capture and replay decode steps
};

// One sequence's part of forward(): engine SeqStep without the adapter.
struct SeqInput {
  const int32_t* tokens = nullptr;       // [num_tokens] host
  int num_tokens = 0;                    // >= 1
  int start_pos = 0;                     // KV of [0, start_pos) is cached
  const int32_t* block_table = nullptr;  // [num_blocks] host physical block ids
  int num_blocks = 0;                    // covers [0, start_pos + num_tokens)
  bool want_logits = false;              // logits of the last token are wanted
};

// One sequence's part of decode(): its newest token and how to pick the next.
struct DecodeInput {
  int32_t token = 0;
  int position = 0;                      // of `token`; keys [0, position] are attended
  const int32_t* block_table = nullptr;  // [num_blocks] host
  int num_blocks = 0;                    // covers [0, position]
  float temperature = 0.f;               // <= 0 greedy
  int top_k = 0;                         // 0 = all
  float top_p = 1.f;
  uint64_t random_word = 0;              // one draw of the request's generator (sampling.cuh)
};

class CudaLlama {
 public:
  // Uploads the weights (fp32 -> bf16) and allocates the KV pool, zeroed.
  // Throws std::invalid_argument for unsupported shapes, CudaError for
  // CUDA failures (no device included).
  CudaLlama(const LlamaShape& shape, const LlamaHostWeights& weights, const CudaLlamaOptions& options);
  ~CudaLlama();
  CudaLlama(const CudaLlama&) = delete;
  CudaLlama& operator=(const CudaLlama&) = delete;

  // As engine Model::forward: writes the steps' keys/values, attends
  // causally, and writes vocab_size floats per step with want_logits to the
  // host buffer `logits`, in step order. Throws std::invalid_argument for a
  // malformed step (nothing is run then). Synchronous.
  void forward(std::span<const SeqInput> steps, float* logits);

  // One decode step for every sequence of the batch: next_tokens[i] gets
  // the token chosen for batch[i]; with `logits` non-null, also its logits
  // ([batch, V] host). Synchronous (waits for the sampled tokens only).
  void decode(std::span<const DecodeInput> batch, int32_t* next_tokens, float* logits = nullptr);

  // For benchmarks: device time of one decode step without the host round
  // trip, as the mean over `replays` back-to-back replays of the graph of
  // the bucket serving `batch` with its last inputs (idempotent: the same
  // KV slots are rewritten with the same values). Throws std::logic_error
  // when that bucket has no graph yet (it needs one decode() with graphs on).
  double replay_decode_ms(int batch, int replays);

  // Graph replay on or off from the next decode() on (captured graphs are
  // kept); the same kernels run either way.
  void set_use_graphs(bool on) { options_.use_graphs = on; }

  // Copies every layer's keys and values of block src to block dst.
  void copy_kv_block(int src, int dst);

  const LlamaShape& shape() const { return shape_; }
  size_t weight_bytes() const { return weight_bytes_; }  // bf16 bytes one decode step streams
  cudaStream_t stream() const { return stream_; }

 private:
  struct Layer;
  struct Bucket;
  struct Attention;

  void upload_weights(const LlamaHostWeights& w);
  void enqueue_layers(int rows, const int32_t* tokens, const int32_t* positions, const int32_t* slots,
                      const Attention& attention);
  void enqueue_decode(Bucket& bucket);
  Bucket& bucket_for(int batch);
  __nv_bfloat16* k_layer(int l) const;
  __nv_bfloat16* v_layer(int l) const;

  LlamaShape shape_;
  CudaLlamaOptions options_;
  int max_blocks_per_seq_ = 0;
  int scratch_block_ = 0;  // the padding rows' block
  int sm_count_ = 0;
  cudaStream_t stream_ = nullptr;
  GemmLt gemm_;

  std::vector<Layer> layers_;
  DeviceBuffer<__nv_bfloat16> embed_, lm_head_, final_norm_;
  bool tied_ = false;
  size_t weight_bytes_ = 0;
  DeviceBuffer<float2> rope_;  // [max_positions, D/2]
  DeviceBuffer<__nv_bfloat16> k_cache_, v_cache_;  // [layers, B + 1, NKV, S, D]

  // Activations, rows = max(max_forward_tokens, max_batch).
  DeviceBuffer<float> x_;                       // [rows, H] fp32 residual stream
  DeviceBuffer<__nv_bfloat16> xn_, qkv_, attn_, proj_, gate_up_, act_;
  DeviceBuffer<__nv_bfloat16> head_in_;         // [max_batch, H]
  DeviceBuffer<float> logits_;                  // [max_batch, V]
  DeviceBuffer<float> partials_;                // decode split-K scratch

  // forward() metadata: one packed int32 upload per call.
  std::vector<int32_t> meta_host_;
  PinnedBuffer<int32_t> meta_pinned_;
  DeviceBuffer<int32_t> meta_dev_;

  std::vector<std::unique_ptr<Bucket>> buckets_;
  PinnedBuffer<int32_t> tokens_pinned_;  // [max_batch] sampled tokens read back
};

}  // namespace parklock::kernels::cuda

#include "kernels/cuda/llama_forward.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kernels/cpu/rope.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/embedding.cuh"
#include "kernels/cuda/prefill_attention.cuh"
#include "kernels/cuda/rms_norm.cuh"
#include "kernels/cuda/rope_kv.cuh"
#include "kernels/cuda/sampling.cuh"
#include "kernels/cuda/swiglu.cuh"

namespace parklock::kernels::cuda {

using bf16 = __nv_bfloat16;

struct CudaLlama::Layer {
  DeviceBuffer<bf16> attn_norm, qkv, o, mlp_norm, gate_up, down;
};

// What the attention of a step needs beyond the per-layer pointers: the
// decode kernel's inputs, or the prefill kernel's.
struct CudaLlama::Attention {
  bool decode = false;
  DecodeAttentionParams decode_params;    // per-layer q/k/v/out filled in enqueue_layers
  PrefillAttentionParams prefill_params;  // likewise
};

// Device inputs of one decode bucket, packed so a step uploads them with one
// copy: int32 tokens, positions, context_lens, slot_mapping, top_k [b] each,
// block_tables [b, max_blocks]; float temperature, top_p [b]; uint64
// random_words [b]; then the sampled tokens [b] (device-written).
struct CudaLlama::Bucket {
  int batch = 0;
  DecodeSplit split;
  size_t upload_bytes = 0;
  PinnedBuffer<unsigned char> host;
  DeviceBuffer<unsigned char> dev;
  int32_t *tokens = nullptr, *positions = nullptr, *context_lens = nullptr, *slots = nullptr,
          *top_k = nullptr, *block_tables = nullptr, *out_tokens = nullptr;
  float *temperature = nullptr, *top_p = nullptr;
  uint64_t* random_words = nullptr;
  size_t off_tokens = 0, off_positions = 0, off_context = 0, off_slots = 0, off_top_k = 0,
         off_tables = 0, off_temperature = 0, off_top_p = 0, off_random = 0, off_out = 0;
  cudaGraphExec_t graph = nullptr;

  ~Bucket() {
    if (graph) cudaGraphExecDestroy(graph);
  }
  template <typename T>
  T* host_at(size_t off) const { return reinterpret_cast<T*>(host.data() + off); }
};

namespace {

[[noreturn]] void bad_input(const std::string& what) { throw std::invalid_argument(what); }

DeviceBuffer<bf16> upload_bf16(const float* src, size_t count, std::vector<bf16>& staging) {
  staging.resize(count);
  for (size_t i = 0; i < count; ++i) staging[i] = __float2bfloat16(src[i]);
  DeviceBuffer<bf16> dev(count);
  PARKLOCK_CUDA_CHECK(cudaMemcpy(dev.data(), staging.data(), count * sizeof(bf16), cudaMemcpyHostToDevice));
  return dev;
}

size_t align_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

void check_shape(const LlamaShape& s, const CudaLlamaOptions& o) {
  if (s.vocab_size <= 0 || s.hidden_size <= 0 || s.num_layers <= 0 || s.num_heads <= 0 ||
      s.num_kv_heads <= 0 || s.ffn_size <= 0 || s.max_positions <= 0)
    bad_input("CudaLlama: every dimension must be positive");
  if (s.num_heads % s.num_kv_heads != 0 || s.num_heads / s.num_kv_heads > kDecodeMaxGroup)
    bad_input("CudaLlama: NH / NKV must be a whole number <= " + std::to_string(kDecodeMaxGroup));
  if (s.head_dim != 16 && s.head_dim != 32 && s.head_dim != 64 && s.head_dim != 128)
    bad_input("CudaLlama: head_dim must be 16, 32, 64 or 128");
  // GEMM dimensions need not be multiples of 8: cuBLASLt's heuristic then
  // picks a kernel for narrower alignment (slower; GemmLt throws if none).
  if (o.num_kv_blocks <= 0 || o.block_size <= 0 || o.max_batch <= 0 || o.max_forward_tokens <= 0)
    bad_input("CudaLlama: options must be positive");
}

}  // namespace

CudaLlama::CudaLlama(const LlamaShape& shape, const LlamaHostWeights& weights, const CudaLlamaOptions& options)
    : shape_(shape), options_(options), gemm_((check_shape(shape, options), kHopperGemmWorkspaceBytes)) {
  if (static_cast<int>(weights.layers.size()) != shape.num_layers)
    bad_input("CudaLlama: weights have " + std::to_string(weights.layers.size()) + " layers, shape " +
              std::to_string(shape.num_layers));
  sm_count_ = device_info().sm_count;
  PARKLOCK_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  max_blocks_per_seq_ = (shape.max_positions + options.block_size - 1) / options.block_size;
  scratch_block_ = options.num_kv_blocks;
  upload_weights(weights);

  // RoPE table from the CPU kernel itself: one definition of the angles.
  {
    const int half = shape.head_dim / 2;
    std::vector<int32_t> positions(shape.max_positions);
    for (int i = 0; i < shape.max_positions; ++i) positions[i] = i;
    std::vector<float> cos(static_cast<size_t>(shape.max_positions) * half), sin(cos.size());
    cpu::rope_table({.num_tokens = shape.max_positions, .head_dim = shape.head_dim, .theta = shape.rope_theta,
                     .positions = positions.data(), .cos = cos.data(), .sin = sin.data()});
    std::vector<float2> table(cos.size());
    for (size_t i = 0; i < cos.size(); ++i) table[i] = make_float2(cos[i], sin[i]);
    rope_ = DeviceBuffer<float2>(table.size());
    PARKLOCK_CUDA_CHECK(cudaMemcpy(rope_.data(), table.data(), table.size() * sizeof(float2), cudaMemcpyHostToDevice));
  }

  const size_t cache = static_cast<size_t>(shape.num_layers) * (options.num_kv_blocks + 1) * shape.num_kv_heads *
                       options.block_size * shape.head_dim;
  k_cache_ = DeviceBuffer<bf16>(cache);
  v_cache_ = DeviceBuffer<bf16>(cache);
  // Zeroed, as the CPU cache is: a slot read before it is written gives zeros.
  PARKLOCK_CUDA_CHECK(cudaMemset(k_cache_.data(), 0, k_cache_.bytes()));
  PARKLOCK_CUDA_CHECK(cudaMemset(v_cache_.data(), 0, v_cache_.bytes()));

  const size_t rows = std::max(options.max_forward_tokens, options.max_batch);
  const size_t h = shape.hidden_size;
  x_ = DeviceBuffer<float>(rows * h);
  xn_ = DeviceBuffer<bf16>(rows * h);
  qkv_ = DeviceBuffer<bf16>(rows * shape.qkv_dim());
  attn_ = DeviceBuffer<bf16>(rows * shape.q_dim());
  proj_ = DeviceBuffer<bf16>(rows * h);
  gate_up_ = DeviceBuffer<bf16>(rows * 2 * shape.ffn_size);
  act_ = DeviceBuffer<bf16>(rows * shape.ffn_size);
  head_in_ = DeviceBuffer<bf16>(static_cast<size_t>(options.max_batch) * h);
  logits_ = DeviceBuffer<float>(static_cast<size_t>(options.max_batch) * shape.vocab_size);
  tokens_pinned_ = PinnedBuffer<int32_t>(options.max_batch);

  // forward() metadata capacity: tokens, positions, slots [T]; logit rows,
  // start, count, row begin [N]; tables [N, max_blocks]; tiles (seq, row0).
  const size_t t = options.max_forward_tokens, n = options.max_batch;
  const size_t tiles = t / kPrefillTileRows + n;
  const size_t meta = 3 * t + 4 * n + n * max_blocks_per_seq_ + 2 * tiles;
  meta_pinned_ = PinnedBuffer<int32_t>(meta);
  meta_dev_ = DeviceBuffer<int32_t>(meta);

  for (int b = 1;; b *= 2) {
    const int batch = std::min(b, options.max_batch);
    auto bucket = std::make_unique<Bucket>();
    bucket->batch = batch;
    bucket->split = plan_decode_split(batch, shape.num_kv_heads, max_blocks_per_seq_ * options.block_size, sm_count_);
    size_t off = 0;
    auto take = [&](size_t& field, size_t bytes) {
      field = off;
      off = align_up(off + bytes, 16);
    };
    const size_t bi = batch * sizeof(int32_t);
    take(bucket->off_tokens, bi);
    take(bucket->off_positions, bi);
    take(bucket->off_context, bi);
    take(bucket->off_slots, bi);
    take(bucket->off_top_k, bi);
    take(bucket->off_tables, bi * max_blocks_per_seq_);
    take(bucket->off_temperature, batch * sizeof(float));
    take(bucket->off_top_p, batch * sizeof(float));
    take(bucket->off_random, batch * sizeof(uint64_t));
    bucket->upload_bytes = off;
    take(bucket->off_out, bi);
    bucket->host = PinnedBuffer<unsigned char>(bucket->upload_bytes);
    bucket->dev = DeviceBuffer<unsigned char>(off);
    unsigned char* d = bucket->dev.data();
    bucket->tokens = reinterpret_cast<int32_t*>(d + bucket->off_tokens);
    bucket->positions = reinterpret_cast<int32_t*>(d + bucket->off_positions);
    bucket->context_lens = reinterpret_cast<int32_t*>(d + bucket->off_context);
    bucket->slots = reinterpret_cast<int32_t*>(d + bucket->off_slots);
    bucket->top_k = reinterpret_cast<int32_t*>(d + bucket->off_top_k);
    bucket->block_tables = reinterpret_cast<int32_t*>(d + bucket->off_tables);
    bucket->temperature = reinterpret_cast<float*>(d + bucket->off_temperature);
    bucket->top_p = reinterpret_cast<float*>(d + bucket->off_top_p);
    bucket->random_words = reinterpret_cast<uint64_t*>(d + bucket->off_random);
    bucket->out_tokens = reinterpret_cast<int32_t*>(d + bucket->off_out);
    buckets_.push_back(std::move(bucket));
    if (batch == options.max_batch) break;
  }
  size_t partials = 0;
  for (const auto& bk : buckets_)
    if (bk->split.max_splits > 1)
      partials = std::max(partials, decode_partials_floats(bk->batch, shape.num_heads, shape.head_dim, bk->split.max_splits));
  partials_ = DeviceBuffer<float>(partials);
  // The uploads and memsets above ran on the legacy default stream, which
  // the non-blocking stream_ does not wait for (and cudaMemset, or a copy
  // from pageable memory, may return before the device is done).
  PARKLOCK_CUDA_CHECK(cudaDeviceSynchronize());
}

CudaLlama::~CudaLlama() {
  buckets_.clear();  // graphs before the stream
  if (stream_) cudaStreamDestroy(stream_);
}

void CudaLlama::upload_weights(const LlamaHostWeights& w) {
  const size_t h = shape_.hidden_size, f = shape_.ffn_size;
  std::vector<bf16> staging;
  auto up = [&](const float* src, size_t count) {
    weight_bytes_ += count * sizeof(bf16);
    return upload_bf16(src, count, staging);
  };
  embed_ = upload_bf16(w.embed, static_cast<size_t>(shape_.vocab_size) * h, staging);
  tied_ = w.lm_head == w.embed;
  if (!tied_) lm_head_ = upload_bf16(w.lm_head, static_cast<size_t>(shape_.vocab_size) * h, staging);
  // A decode step reads the LM head in full but only T rows of the embedding.
  weight_bytes_ += static_cast<size_t>(shape_.vocab_size) * h * sizeof(bf16);
  final_norm_ = up(w.final_norm, h);
  layers_.resize(shape_.num_layers);
  for (int l = 0; l < shape_.num_layers; ++l) {
    const LlamaLayerHostWeights& src = w.layers[l];
    Layer& dst = layers_[l];
    dst.attn_norm = up(src.attn_norm, h);
    dst.qkv = up(src.qkv, shape_.qkv_dim() * h);
    dst.o = up(src.o, h * shape_.q_dim());
    dst.mlp_norm = up(src.mlp_norm, h);
    dst.gate_up = up(src.gate_up, 2 * f * h);
    dst.down = up(src.down, h * f);
  }
}

bf16* CudaLlama::k_layer(int l) const {
  return k_cache_.data() + static_cast<size_t>(l) * (options_.num_kv_blocks + 1) * shape_.num_kv_heads *
                               options_.block_size * shape_.head_dim;
}
bf16* CudaLlama::v_layer(int l) const {
  return v_cache_.data() + (k_layer(l) - k_cache_.data());
}

// x = embed(tokens); per layer:
//   x += o(attn(rope(qkv(norm(x)))));  x += down(swiglu(gate_up(norm(x))))
// leaving xn = final_norm(x). Each norm is fused with the residual add
// before it.
void CudaLlama::enqueue_layers(int rows, const int32_t* tokens, const int32_t* positions, const int32_t* slots,
                               const Attention& attention) {
  const int h = shape_.hidden_size, f = shape_.ffn_size, qkv_dim = shape_.qkv_dim();
  const bool tune = attention.decode;  // decode buckets recur every step: worth timing once
  gather_rows<float>({.num_rows = rows, .dim = h, .index = tokens, .table = embed_.data(), .out = x_.data()}, stream_);
  add_rms_norm({.rows = rows, .dim = h, .residual = x_.data(), .delta = nullptr,
                .weight = layers_[0].attn_norm.data(), .out = xn_.data(), .eps = shape_.rms_eps},
               stream_);
  for (int l = 0; l < shape_.num_layers; ++l) {
    const Layer& w = layers_[l];
    gemm_.run({.m = rows, .n = qkv_dim, .k = h, .x = xn_.data(), .w = w.qkv.data(), .y = qkv_.data(), .tune = tune}, stream_);
    rope_kv_write({.num_tokens = rows, .num_heads = shape_.num_heads, .num_kv_heads = shape_.num_kv_heads,
                   .head_dim = shape_.head_dim, .block_size = options_.block_size, .qkv = qkv_.data(),
                   .positions = positions, .slot_mapping = slots,
                   .table = {.max_positions = shape_.max_positions, .head_dim = shape_.head_dim, .cos_sin = rope_.data()},
                   .k_cache = k_layer(l), .v_cache = v_layer(l)},
                  stream_);
    // Both attention kinds read this layer's q and KV cache and write attn_.
    auto on_this_layer = [&](auto params) {
      params.q = qkv_.data();
      params.q_stride = qkv_dim;
      params.k_cache = k_layer(l);
      params.v_cache = v_layer(l);
      params.out = attn_.data();
      params.out_stride = shape_.q_dim();
      return params;
    };
    if (attention.decode) decode_attention(on_this_layer(attention.decode_params), stream_);
    else prefill_attention(on_this_layer(attention.prefill_params), stream_);
    gemm_.run({.m = rows, .n = h, .k = shape_.q_dim(), .x = attn_.data(), .w = w.o.data(), .y = proj_.data(), .tune = tune}, stream_);
    add_rms_norm({.rows = rows, .dim = h, .residual = x_.data(), .delta = proj_.data(), .weight = w.mlp_norm.data(),
                  .out = xn_.data(), .eps = shape_.rms_eps},
                 stream_);
    gemm_.run({.m = rows, .n = 2 * f, .k = h, .x = xn_.data(), .w = w.gate_up.data(), .y = gate_up_.data(), .tune = tune}, stream_);
    swiglu({.rows = rows, .dim = f, .gate_up = gate_up_.data(), .out = act_.data()}, stream_);
    gemm_.run({.m = rows, .n = h, .k = f, .x = act_.data(), .w = w.down.data(), .y = proj_.data(), .tune = tune}, stream_);
    const bf16* next_norm = l + 1 < shape_.num_layers ? layers_[l + 1].attn_norm.data() : final_norm_.data();
    add_rms_norm({.rows = rows, .dim = h, .residual = x_.data(), .delta = proj_.data(), .weight = next_norm,
                  .out = xn_.data(), .eps = shape_.rms_eps},
                 stream_);
  }
}

void CudaLlama::forward(std::span<const SeqInput> steps, float* logits) {
  const int n = static_cast<int>(steps.size());
  if (n == 0) return;
  if (n > options_.max_batch) bad_input("forward: more steps than max_batch");
  const int s_blocks = options_.block_size;
  // Validate everything before anything runs (as the CPU model does).
  int t = 0, wanted = 0;
  for (int s = 0; s < n; ++s) {
    const SeqInput& in = steps[s];
    const std::string where = "forward: step " + std::to_string(s) + ": ";
    if (in.num_tokens < 1 || in.tokens == nullptr) bad_input(where + "needs at least one token");
    if (in.start_pos < 0) bad_input(where + "negative start_pos");
    const long end = static_cast<long>(in.start_pos) + in.num_tokens;
    if (end > shape_.max_positions) bad_input(where + "positions exceed max_positions");
    const long needed = (end + s_blocks - 1) / s_blocks;
    if (in.block_table == nullptr || in.num_blocks < needed) bad_input(where + "block table too short");
    for (long i = 0; i < needed; ++i)
      if (in.block_table[i] < 0 || in.block_table[i] >= options_.num_kv_blocks) bad_input(where + "block id outside the pool");
    for (int i = 0; i < in.num_tokens; ++i)
      if (in.tokens[i] < 0 || in.tokens[i] >= shape_.vocab_size) bad_input(where + "token outside the vocabulary");
    t += in.num_tokens;
    wanted += in.want_logits;
  }
  if (t > options_.max_forward_tokens) bad_input("forward: more tokens than max_forward_tokens");
  if (wanted > 0 && logits == nullptr) bad_input("forward: steps want logits but the logits buffer is null");

  // Pack the metadata: [tokens T][positions T][slots T][logit rows W]
  // [start N][count N][row begin N][tables N * max_blocks][tile seq][tile row0].
  std::vector<int32_t>& m = meta_host_;
  m.assign(3 * t, 0);
  std::vector<int32_t> logit_rows, start(n), count(n), row_begin(n);
  for (int s = 0, row = 0; s < n; ++s) {
    const SeqInput& in = steps[s];
    start[s] = in.start_pos;
    count[s] = in.num_tokens;
    row_begin[s] = row;
    for (int i = 0; i < in.num_tokens; ++i, ++row) {
      const int pos = in.start_pos + i;
      m[row] = in.tokens[i];
      m[t + row] = pos;
      m[2 * t + row] = in.block_table[pos / s_blocks] * s_blocks + pos % s_blocks;
    }
    if (in.want_logits) logit_rows.push_back(row - 1);
  }
  const size_t off_logit = m.size();
  m.insert(m.end(), logit_rows.begin(), logit_rows.end());
  const size_t off_start = m.size();
  m.insert(m.end(), start.begin(), start.end());
  const size_t off_count = m.size();
  m.insert(m.end(), count.begin(), count.end());
  const size_t off_row = m.size();
  m.insert(m.end(), row_begin.begin(), row_begin.end());
  const size_t off_tables = m.size();
  for (int s = 0; s < n; ++s) {
    const SeqInput& in = steps[s];
    const int used = std::min(in.num_blocks, max_blocks_per_seq_);
    m.insert(m.end(), in.block_table, in.block_table + used);
    m.insert(m.end(), max_blocks_per_seq_ - used, scratch_block_);
  }
  std::vector<int32_t> tile_seq, tile_row0;
  plan_prefill_tiles(count.data(), n, tile_seq, tile_row0);
  const size_t off_tile_seq = m.size();
  m.insert(m.end(), tile_seq.begin(), tile_seq.end());
  const size_t off_tile_row = m.size();
  m.insert(m.end(), tile_row0.begin(), tile_row0.end());
  std::memcpy(meta_pinned_.data(), m.data(), m.size() * sizeof(int32_t));
  PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(meta_dev_.data(), meta_pinned_.data(), m.size() * sizeof(int32_t),
                                      cudaMemcpyHostToDevice, stream_));
  const int32_t* d = meta_dev_.data();

  Attention attention;
  attention.prefill_params = {.num_tiles = static_cast<int>(tile_seq.size()),
                              .tile_seq = d + off_tile_seq,
                              .tile_row0 = d + off_tile_row,
                              .seq_start_pos = d + off_start,
                              .seq_num_tokens = d + off_count,
                              .seq_row_begin = d + off_row,
                              .block_tables = d + off_tables,
                              .max_blocks_per_seq = max_blocks_per_seq_,
                              .num_heads = shape_.num_heads,
                              .num_kv_heads = shape_.num_kv_heads,
                              .head_dim = shape_.head_dim,
                              .block_size = options_.block_size,
                              .scale = 1.f / std::sqrt(static_cast<float>(shape_.head_dim))};
  enqueue_layers(t, d, d + t, d + 2 * t, attention);
  if (wanted > 0) {
    gather_rows<bf16>({.num_rows = wanted, .dim = shape_.hidden_size, .index = d + off_logit, .table = xn_.data(),
                       .out = head_in_.data()},
                      stream_);
    const bf16* head = tied_ ? embed_.data() : lm_head_.data();
    gemm_.run({.m = wanted, .n = shape_.vocab_size, .k = shape_.hidden_size, .x = head_in_.data(), .w = head,
               .y = logits_.data(), .out_type = GemmOutType::kF32},
              stream_);
    PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(logits, logits_.data(), sizeof(float) * wanted * shape_.vocab_size,
                                        cudaMemcpyDeviceToHost, stream_));
  }
  PARKLOCK_CUDA_CHECK(cudaStreamSynchronize(stream_));
}

CudaLlama::Bucket& CudaLlama::bucket_for(int batch) {
  for (auto& b : buckets_)
    if (b->batch >= batch) return *b;
  bad_input("decode: batch of " + std::to_string(batch) + " exceeds max_batch " + std::to_string(options_.max_batch));
}

void CudaLlama::enqueue_decode(Bucket& bk) {
  Attention attention;
  attention.decode = true;
  attention.decode_params = {.num_seqs = bk.batch,
                             .num_heads = shape_.num_heads,
                             .num_kv_heads = shape_.num_kv_heads,
                             .head_dim = shape_.head_dim,
                             .block_size = options_.block_size,
                             .block_tables = bk.block_tables,
                             .max_blocks_per_seq = max_blocks_per_seq_,
                             .context_lens = bk.context_lens,
                             .scale = 1.f / std::sqrt(static_cast<float>(shape_.head_dim)),
                             .split = bk.split,
                             .partials = partials_.data()};
  enqueue_layers(bk.batch, bk.tokens, bk.positions, bk.slots, attention);
  const bf16* head = tied_ ? embed_.data() : lm_head_.data();
  gemm_.run({.m = bk.batch, .n = shape_.vocab_size, .k = shape_.hidden_size, .x = xn_.data(), .w = head,
             .y = logits_.data(), .out_type = GemmOutType::kF32, .tune = true},
            stream_);
  sample_tokens({.num_rows = bk.batch, .vocab = shape_.vocab_size, .logits = logits_.data(),
                 .temperature = bk.temperature, .top_k = bk.top_k, .top_p = bk.top_p,
                 .random_words = bk.random_words, .tokens = bk.out_tokens},
                stream_);
}

void CudaLlama::decode(std::span<const DecodeInput> batch, int32_t* next_tokens, float* logits) {
  const int n = static_cast<int>(batch.size());
  if (n == 0) return;
  Bucket& bk = bucket_for(n);
  const int s_blocks = options_.block_size;
  const int b = bk.batch;
  int32_t* tokens = bk.host_at<int32_t>(bk.off_tokens);
  int32_t* positions = bk.host_at<int32_t>(bk.off_positions);
  int32_t* context = bk.host_at<int32_t>(bk.off_context);
  int32_t* slots = bk.host_at<int32_t>(bk.off_slots);
  int32_t* top_k = bk.host_at<int32_t>(bk.off_top_k);
  int32_t* tables = bk.host_at<int32_t>(bk.off_tables);
  float* temperature = bk.host_at<float>(bk.off_temperature);
  float* top_p = bk.host_at<float>(bk.off_top_p);
  uint64_t* random = bk.host_at<uint64_t>(bk.off_random);
  for (int i = 0; i < n; ++i) {
    const DecodeInput& in = batch[i];
    const std::string where = "decode: row " + std::to_string(i) + ": ";
    if (in.token < 0 || in.token >= shape_.vocab_size) bad_input(where + "token outside the vocabulary");
    if (in.position < 0 || in.position >= shape_.max_positions) bad_input(where + "position outside [0, max_positions)");
    const int needed = in.position / s_blocks + 1;
    if (in.block_table == nullptr || in.num_blocks < needed) bad_input(where + "block table too short");
    for (int j = 0; j < needed; ++j)
      if (in.block_table[j] < 0 || in.block_table[j] >= options_.num_kv_blocks) bad_input(where + "block id outside the pool");
  }
  for (int i = 0; i < b; ++i) {
    int32_t* row = tables + static_cast<size_t>(i) * max_blocks_per_seq_;
    if (i < n) {
      const DecodeInput& in = batch[i];
      const int used = std::min(in.num_blocks, max_blocks_per_seq_);
      std::copy_n(in.block_table, used, row);
      std::fill(row + used, row + max_blocks_per_seq_, scratch_block_);
      tokens[i] = in.token;
      positions[i] = in.position;
      context[i] = in.position + 1;
      slots[i] = in.block_table[in.position / s_blocks] * s_blocks + in.position % s_blocks;
      temperature[i] = in.temperature;
      top_k[i] = in.top_k;
      top_p[i] = in.top_p;
      random[i] = in.random_word;
    } else {  // padding: token 0 at position 0 in the scratch block, greedy
      std::fill(row, row + max_blocks_per_seq_, scratch_block_);
      tokens[i] = 0;
      positions[i] = 0;
      context[i] = 1;
      slots[i] = scratch_block_ * s_blocks;
      temperature[i] = 0.f;
      top_k[i] = 0;
      top_p[i] = 1.f;
      random[i] = 0;
    }
  }
  PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(bk.dev.data(), bk.host.data(), bk.upload_bytes, cudaMemcpyHostToDevice, stream_));
  if (options_.use_graphs && bk.graph) {
    PARKLOCK_CUDA_CHECK(cudaGraphLaunch(bk.graph, stream_));
  } else {
    enqueue_decode(bk);
  }
  PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(tokens_pinned_.data(), bk.out_tokens, sizeof(int32_t) * n,
                                      cudaMemcpyDeviceToHost, stream_));
  if (logits)
    PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(logits, logits_.data(), sizeof(float) * n * shape_.vocab_size,
                                        cudaMemcpyDeviceToHost, stream_));
  PARKLOCK_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::copy_n(tokens_pinned_.data(), n, next_tokens);

  // After the first eager run of a bucket every GEMM plan it uses is
  // cached, so capturing launches only: record the step for later replays.
  if (options_.use_graphs && !bk.graph) {
    cudaGraph_t graph = nullptr;
    PARKLOCK_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
    try {
      enqueue_decode(bk);
    } catch (...) {
      cudaStreamEndCapture(stream_, &graph);
      if (graph) cudaGraphDestroy(graph);
      throw;
    }
    PARKLOCK_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
    const cudaError_t status = cudaGraphInstantiate(&bk.graph, graph, 0);
    cudaGraphDestroy(graph);
    PARKLOCK_CUDA_CHECK(status);
  }
}

double CudaLlama::replay_decode_ms(int batch, int replays) {
  Bucket& bk = bucket_for(batch);
  if (!bk.graph) throw std::logic_error("replay_decode_ms: no decode graph captured for this batch size yet");
  cudaEvent_t start, stop;
  PARKLOCK_CUDA_CHECK(cudaEventCreate(&start));
  PARKLOCK_CUDA_CHECK(cudaEventCreate(&stop));
  PARKLOCK_CUDA_CHECK(cudaEventRecord(start, stream_));
  for (int r = 0; r < replays; ++r) PARKLOCK_CUDA_CHECK(cudaGraphLaunch(bk.graph, stream_));
  PARKLOCK_CUDA_CHECK(cudaEventRecord(stop, stream_));
  PARKLOCK_CUDA_CHECK(cudaEventSynchronize(stop));
  float ms = 0;
  PARKLOCK_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms / replays;
}

void CudaLlama::copy_kv_block(int src, int dst) {
  if (src < 0 || src >= options_.num_kv_blocks || dst < 0 || dst >= options_.num_kv_blocks)
    throw std::out_of_range("copy_kv_block: block outside [0, " + std::to_string(options_.num_kv_blocks) + ")");
  if (src == dst) return;
  const size_t block = static_cast<size_t>(shape_.num_kv_heads) * options_.block_size * shape_.head_dim;
  for (int l = 0; l < shape_.num_layers; ++l) {
    PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(k_layer(l) + dst * block, k_layer(l) + src * block, block * sizeof(bf16),
                                        cudaMemcpyDeviceToDevice, stream_));
    PARKLOCK_CUDA_CHECK(cudaMemcpyAsync(v_layer(l) + dst * block, v_layer(l) + src * block, block * sizeof(bf16),
                                        cudaMemcpyDeviceToDevice, stream_));
  }
}

}  // namespace parklock::kernels::cuda

#include "engine/model/model.h"

#include <cmath>

#include "engine/model/lora_apply.h"
#include "engine/model/safetensors.h"
#include "engine/model/synthetic_weights.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/paged_attention.h"
#include "kernels/cpu/rms_norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"

namespace parklock::engine {

namespace cpu = kernels::cpu;

Model::Model(const ModelConfig& config, ModelWeights weights)
    : config_(config), weights_(std::move(weights)) {}

std::unique_ptr<Model> Model::load(const std::string& path) {
  const SafetensorsFile file(path);
  ModelConfig config;
  try {
    config = ModelConfig::from_metadata(file.metadata());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
  return std::unique_ptr<Model>(new Model(config, ModelWeights::load(file, config)));
}

std::unique_ptr<Model> Model::random(const ModelConfig& config, uint64_t seed) {
  const SyntheticWeights source(config, seed);
  return std::unique_ptr<Model>(new Model(config, ModelWeights::load(source, config)));
}

void Model::allocate_kv(int num_blocks, int block_size) {
  kv_.allocate(config_, num_blocks, block_size);
}

void Model::copy_kv_block(int src_block, int dst_block) { kv_.copy_block(src_block, dst_block); }

void Model::forward(std::span<const SeqStep> steps, float* logits) {
  plan_.build(steps, config_, kv_, logits != nullptr);
  if (plan_.num_tokens == 0) return;
  ws_.resize(config_, plan_);
  const int t = plan_.num_tokens;
  cpu::embedding({.num_tokens = t,
                  .dim = config_.hidden_size,
                  .tokens = plan_.tokens.data(),
                  .table = weights_.embed.data(),
                  .out = ws_.x.data()});
  cpu::rope_table({.num_tokens = t,
                   .head_dim = config_.head_dim,
                   .theta = config_.rope_theta,
                   .positions = plan_.positions.data(),
                   .cos = ws_.rope_cos.data(),
                   .sin = ws_.rope_sin.data()});
  for (int l = 0; l < config_.num_layers; ++l) run_layer(l);
  if (!plan_.logit_rows.empty()) compute_logits(logits);
}

// x += o_proj(attention(rope(qkv(norm(x)))));  x += down(swiglu(gate_up(norm(x))))
void Model::run_layer(int l) {
  const LayerWeights& w = weights_.layers[l];
  const int t = plan_.num_tokens;
  const int h = config_.hidden_size;
  const int qkv_dim = config_.q_dim() + 2 * config_.kv_dim();
  const int f = config_.ffn_size;
  auto lora = [&](Projection p, const float* in, int in_stride, float* out, int out_stride) {
    apply_lora({.runs = plan_.adapter_runs,
                .layer = l,
                .projection = p,
                .in = in,
                .in_stride = in_stride,
                .out = out,
                .out_stride = out_stride,
                .scratch = &ws_.lora_tmp});
  };

  cpu::rms_norm({.rows = t, .dim = h, .in = ws_.x.data(), .in_stride = h,
                 .weight = w.attn_norm.data(), .out = ws_.xn.data(), .out_stride = h,
                 .eps = config_.rms_eps});
  cpu::gemm_nt({.m = t, .n = qkv_dim, .k = h, .a = ws_.xn.data(), .lda = h, .b = w.qkv.data(),
                .ldb = h, .c = ws_.qkv.data(), .ldc = qkv_dim});
  float* q = ws_.qkv.data();
  float* k = q + config_.q_dim();
  float* v = k + config_.kv_dim();
  lora(Projection::kQ, ws_.xn.data(), h, q, qkv_dim);
  lora(Projection::kK, ws_.xn.data(), h, k, qkv_dim);
  lora(Projection::kV, ws_.xn.data(), h, v, qkv_dim);
  attention(l);
  cpu::gemm_nt({.m = t, .n = h, .k = config_.q_dim(), .a = ws_.attn.data(), .lda = config_.q_dim(),
                .b = w.o.data(), .ldb = config_.q_dim(), .c = ws_.x.data(), .ldc = h, .beta = 1.f});
  lora(Projection::kO, ws_.attn.data(), config_.q_dim(), ws_.x.data(), h);

  cpu::rms_norm({.rows = t, .dim = h, .in = ws_.x.data(), .in_stride = h,
                 .weight = w.mlp_norm.data(), .out = ws_.xn.data(), .out_stride = h,
                 .eps = config_.rms_eps});
  cpu::gemm_nt({.m = t, .n = 2 * f, .k = h, .a = ws_.xn.data(), .lda = h, .b = w.gate_up.data(),
                .ldb = h, .c = ws_.gate_up.data(), .ldc = 2 * f});
  lora(Projection::kGate, ws_.xn.data(), h, ws_.gate_up.data(), 2 * f);
  lora(Projection::kUp, ws_.xn.data(), h, ws_.gate_up.data() + f, 2 * f);
  cpu::swiglu({.rows = t, .dim = f, .gate_up = ws_.gate_up.data(), .out = ws_.act.data()});
  cpu::gemm_nt({.m = t, .n = h, .k = f, .a = ws_.act.data(), .lda = f, .b = w.down.data(),
                .ldb = f, .c = ws_.x.data(), .ldc = h, .beta = 1.f});
  lora(Projection::kDown, ws_.act.data(), f, ws_.x.data(), h);
}

// RoPE on q and k, then per sequence: store the new keys/values, attend.
void Model::attention(int l) {
  const int t = plan_.num_tokens;
  const int qkv_dim = config_.q_dim() + 2 * config_.kv_dim();
  float* q = ws_.qkv.data();
  float* k = q + config_.q_dim();
  const float* v = k + config_.kv_dim();
  cpu::rope_apply({.num_tokens = t, .num_heads = config_.num_heads, .head_dim = config_.head_dim,
                   .x = q, .row_stride = qkv_dim, .cos = ws_.rope_cos.data(),
                   .sin = ws_.rope_sin.data()});
  cpu::rope_apply({.num_tokens = t, .num_heads = config_.num_kv_heads,
                   .head_dim = config_.head_dim, .x = k, .row_stride = qkv_dim,
                   .cos = ws_.rope_cos.data(), .sin = ws_.rope_sin.data()});
  const float scale = 1.f / std::sqrt(static_cast<float>(config_.head_dim));
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const SeqStep& step = plan_.steps[s];
    const long row = plan_.row_begin[s];
    cpu::paged_kv_write({.layout = kv_.layout(),
                         .num_tokens = step.num_tokens,
                         .start_pos = step.start_pos,
                         .block_table = step.block_table,
                         .k = k + row * qkv_dim,
                         .v = v + row * qkv_dim,
                         .row_stride = qkv_dim,
                         .k_cache = kv_.keys(l),
                         .v_cache = kv_.values(l)});
    cpu::paged_attention({.layout = kv_.layout(),
                          .num_heads = config_.num_heads,
                          .num_tokens = step.num_tokens,
                          .start_pos = step.start_pos,
                          .block_table = step.block_table,
                          .q = q + row * qkv_dim,
                          .q_stride = qkv_dim,
                          .k_cache = kv_.keys(l),
                          .v_cache = kv_.values(l),
                          .out = ws_.attn.data() + row * config_.q_dim(),
                          .out_stride = config_.q_dim(),
                          .scale = scale,
                          .scratch = ws_.scores.data()});
  }
}

// Final norm and LM head for the wanted rows only: at vocab 32000 the head
// is the largest GEMM of a decode step, and prefill rows need no logits.
void Model::compute_logits(float* logits) {
  const int h = config_.hidden_size;
  const int n = static_cast<int>(plan_.logit_rows.size());
  for (int i = 0; i < n; ++i)
    std::copy_n(ws_.x.data() + static_cast<long>(plan_.logit_rows[i]) * h, h,
                ws_.head_in.data() + static_cast<long>(i) * h);
  cpu::rms_norm({.rows = n, .dim = h, .in = ws_.head_in.data(), .in_stride = h,
                 .weight = weights_.final_norm.data(), .out = ws_.head_in.data(), .out_stride = h,
                 .eps = config_.rms_eps});
  cpu::gemm_nt({.m = n, .n = config_.vocab_size, .k = h, .a = ws_.head_in.data(), .lda = h,
                .b = weights_.lm_head_data(), .ldb = h, .c = logits, .ldc = config_.vocab_size});
}

}  // namespace parklock::engine

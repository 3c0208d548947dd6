#include "engine/model/model.h"

#include <algorithm>
#include <cmath>

#include "engine/model/lora_apply.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/paged_attention.h"
#include "kernels/cpu/rms_norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/swiglu.h"

namespace parklock::engine {

namespace cpu = kernels::cpu;

namespace {

// Columns per part start on a 16-float (64-byte) boundary.
constexpr int kColumnAlign = 16;

}  // namespace

Model::Model(LoadedModel model)
    : config_(model.config), weights_(std::move(model.weights)), pool_(std::make_unique<ComputePool>(1)) {}

Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path) {
  return std::make_unique<Model>(LoadedModel::from_checkpoint(path));
}

std::unique_ptr<Model> Model::random(const ModelConfig& config, uint64_t seed) {
  return std::make_unique<Model>(LoadedModel::synthetic(config, seed));
}

void Model::set_compute_threads(int threads) {
  if (threads != pool_->size()) pool_ = std::make_unique<ComputePool>(threads);
}

void Model::allocate_kv(const KvPoolConfig& pool) {
  kv_.allocate(config_, pool.num_blocks, pool.block_size);
}

void Model::copy_kv_block(int src_block, int dst_block) { kv_.copy_block(src_block, dst_block); }

void Model::forward(std::span<const SeqStep> steps, float* logits) {
  plan_.build(steps, config_, kv_, logits != nullptr);
  if (plan_.num_tokens == 0) return;
  ws_.resize(config_, plan_, pool_->size());
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

// out[:, this part's columns] (+)= in · W[this part's rows]ᵀ
void Model::linear_part(const LinearJob& j, int part, int parts) {
  const PartRange cols = part_range(j.out_features, part, parts, kColumnAlign);
  cpu::gemm_nt({.m = plan_.num_tokens, .n = cols.end - cols.begin, .k = j.in_features,
                .a = j.in, .lda = j.in_features,
                .b = j.weight + static_cast<long>(cols.begin) * j.in_features,
                .ldb = j.in_features, .c = j.out + cols.begin, .ldc = j.out_stride, .beta = j.beta});
}

void Model::norm_part(const float* weight, const float* in, float* out, int part, int parts) {
  const int h = config_.hidden_size;
  const PartRange rows = part_range(plan_.num_tokens, part, parts);
  cpu::rms_norm({.rows = rows.end - rows.begin, .dim = h, .in = in + static_cast<long>(rows.begin) * h,
                 .in_stride = h, .weight = weight, .out = out + static_cast<long>(rows.begin) * h,
                 .out_stride = h, .eps = config_.rms_eps});
}

// x += o_proj(attention(rope(qkv(norm(x)))));  x += down(swiglu(gate_up(norm(x))))
// Every pool_->run is a phase that ends at the barrier; LoRA deltas run on
// the calling thread between phases.
void Model::run_layer(int l) {
  const LayerWeights& w = weights_.layers[l];
  const int h = config_.hidden_size;
  const int qd = config_.q_dim(), kvd = config_.kv_dim();
  const int qkv_dim = qd + 2 * kvd;
  const int f = config_.ffn_size;
  auto lora = [&](Projection p, const float* in, int in_stride, float* out, int out_stride) {
    apply_lora({.runs = plan_.adapter_runs, .layer = l, .projection = p, .in = in,
                .in_stride = in_stride, .out = out, .out_stride = out_stride,
                .scratch = &ws_.lora_tmp});
  };
  float* q = ws_.qkv.data();

  pool_->run([&](int part, int parts) { norm_part(w.attn_norm.data(), ws_.x.data(), ws_.xn.data(), part, parts); });
  const LinearJob qkv{.in = ws_.xn.data(), .in_features = h, .weight = w.qkv.data(),
                      .out_features = qkv_dim, .out = q, .out_stride = qkv_dim};
  pool_->run([&](int part, int parts) { linear_part(qkv, part, parts); });
  lora(Projection::kQ, ws_.xn.data(), h, q, qkv_dim);
  lora(Projection::kK, ws_.xn.data(), h, q + qd, qkv_dim);
  lora(Projection::kV, ws_.xn.data(), h, q + qd + kvd, qkv_dim);
  pool_->run([&](int part, int parts) { store_kv_part(l, part, parts); });
  pool_->run([&](int part, int parts) { attention_part(l, part, parts); });
  const LinearJob o{.in = ws_.attn.data(), .in_features = qd, .weight = w.o.data(),
                    .out_features = h, .out = ws_.x.data(), .out_stride = h, .beta = 1.f};
  pool_->run([&](int part, int parts) { linear_part(o, part, parts); });
  lora(Projection::kO, ws_.attn.data(), qd, ws_.x.data(), h);

  pool_->run([&](int part, int parts) { norm_part(w.mlp_norm.data(), ws_.x.data(), ws_.xn.data(), part, parts); });
  const LinearJob gate_up{.in = ws_.xn.data(), .in_features = h, .weight = w.gate_up.data(),
                          .out_features = 2 * f, .out = ws_.gate_up.data(), .out_stride = 2 * f};
  pool_->run([&](int part, int parts) { linear_part(gate_up, part, parts); });
  lora(Projection::kGate, ws_.xn.data(), h, ws_.gate_up.data(), 2 * f);
  lora(Projection::kUp, ws_.xn.data(), h, ws_.gate_up.data() + f, 2 * f);
  pool_->run([&](int part, int parts) {
    const PartRange rows = part_range(plan_.num_tokens, part, parts);
    cpu::swiglu({.rows = rows.end - rows.begin, .dim = f,
                 .gate_up = ws_.gate_up.data() + static_cast<long>(rows.begin) * 2 * f,
                 .out = ws_.act.data() + static_cast<long>(rows.begin) * f});
  });
  const LinearJob down{.in = ws_.act.data(), .in_features = f, .weight = w.down.data(),
                       .out_features = h, .out = ws_.x.data(), .out_stride = h, .beta = 1.f};
  pool_->run([&](int part, int parts) { linear_part(down, part, parts); });
  lora(Projection::kDown, ws_.act.data(), f, ws_.x.data(), h);
}

// RoPE on this part's steps' q and k, then their new keys/values into the cache.
void Model::store_kv_part(int l, int part, int parts) {
  const int qkv_dim = config_.q_dim() + 2 * config_.kv_dim();
  float* q = ws_.qkv.data();
  float* k = q + config_.q_dim();
  const float* v = k + config_.kv_dim();
  const PartRange steps = part_range(static_cast<int>(plan_.steps.size()), part, parts);
  for (int s = steps.begin; s < steps.end; ++s) {
    const SeqStep& step = plan_.steps[s];
    const long row = plan_.row_begin[s];
    const int half = config_.head_dim / 2;
    cpu::rope_apply({.num_tokens = step.num_tokens, .num_heads = config_.num_heads,
                     .head_dim = config_.head_dim, .x = q + row * qkv_dim, .row_stride = qkv_dim,
                     .cos = ws_.rope_cos.data() + row * half, .sin = ws_.rope_sin.data() + row * half});
    cpu::rope_apply({.num_tokens = step.num_tokens, .num_heads = config_.num_kv_heads,
                     .head_dim = config_.head_dim, .x = k + row * qkv_dim, .row_stride = qkv_dim,
                     .cos = ws_.rope_cos.data() + row * half, .sin = ws_.rope_sin.data() + row * half});
    cpu::paged_kv_write({.layout = kv_.layout(),
                         .num_tokens = step.num_tokens,
                         .start_pos = step.start_pos,
                         .block_table = step.block_table,
                         .k = k + row * qkv_dim,
                         .v = v + row * qkv_dim,
                         .row_stride = qkv_dim,
                         .k_cache = kv_.keys(l),
                         .v_cache = kv_.values(l)});
  }
}

// Attention of this part's share of the (step, query head) pairs.
void Model::attention_part(int l, int part, int parts) {
  const int qkv_dim = config_.q_dim() + 2 * config_.kv_dim();
  const int nh = config_.num_heads;
  const float scale = 1.f / std::sqrt(static_cast<float>(config_.head_dim));
  const PartRange items = part_range(static_cast<int>(plan_.steps.size()) * nh, part, parts);
  float* scratch = ws_.scores.data() + static_cast<long>(part) * plan_.max_context;
  for (int item = items.begin; item < items.end;) {
    const int s = item / nh;
    const int head_end = std::min(nh, items.end - s * nh);
    const SeqStep& step = plan_.steps[s];
    const long row = plan_.row_begin[s];
    cpu::paged_attention({.layout = kv_.layout(),
                          .num_heads = nh,
                          .head_begin = item - s * nh,
                          .head_end = head_end,
                          .num_tokens = step.num_tokens,
                          .start_pos = step.start_pos,
                          .block_table = step.block_table,
                          .q = ws_.qkv.data() + row * qkv_dim,
                          .q_stride = qkv_dim,
                          .k_cache = kv_.keys(l),
                          .v_cache = kv_.values(l),
                          .out = ws_.attn.data() + row * config_.q_dim(),
                          .out_stride = config_.q_dim(),
                          .scale = scale,
                          .scratch = scratch});
    item = s * nh + head_end;
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
  pool_->run([&](int part, int parts) {
    const PartRange cols = part_range(config_.vocab_size, part, parts, kColumnAlign);
    cpu::gemm_nt({.m = n, .n = cols.end - cols.begin, .k = h, .a = ws_.head_in.data(), .lda = h,
                  .b = weights_.lm_head_data() + static_cast<long>(cols.begin) * h, .ldb = h,
                  .c = logits + cols.begin, .ldc = config_.vocab_size});
  });
}

}  // namespace parklock::engine

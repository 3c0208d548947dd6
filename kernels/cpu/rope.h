// Rotary position embedding, "rotate-half" convention (HF Llama / GPT-NeoX):
// a head vector of D values is split into halves x1 = x[0, D/2) and
// x2 = x[D/2, D); pair i is (x1[i], x2[i]) rotated by angle pos * theta^(-2i/D):
//   x1' = x1 cos - x2 sin,   x2' = x2 cos + x1 sin.
// (Meta's original checkpoints interleave pairs (x[2i], x[2i+1]) instead; HF
// checkpoints permute q/k weights so that rotate-half applies. We load HF
// names, so we use HF's convention.)
#pragma once

#include <cstdint>

namespace parklock::kernels::cpu {

// cos/sin for each token's position, computed once per forward step and
// shared by every layer.
struct RopeTableParams {
  int num_tokens = 0;               // T
  int head_dim = 0;                 // D (even)
  float theta = 10000.f;
  const int32_t* positions = nullptr;  // [T]
  float* cos = nullptr;                // [T, D/2] out
  float* sin = nullptr;                // [T, D/2] out
};
void rope_table(const RopeTableParams& p);

// Rotates every head of every token in place.
struct RopeApplyParams {
  int num_tokens = 0;  // T
  int num_heads = 0;   // NH for queries, NKV for keys
  int head_dim = 0;    // D
  float* x = nullptr;  // [T, heads, D], row (token) stride row_stride
  int row_stride = 0;
  const float* cos = nullptr;  // [T, D/2] from rope_table
  const float* sin = nullptr;  // [T, D/2]
};
void rope_apply(const RopeApplyParams& p);

}  // namespace parklock::kernels::cpu

#include "kernels/cpu/paged_attention.h"

#include <algorithm>
#include <cmath>

namespace parklock::kernels::cpu {
namespace {

struct HeadTask {
  const float* q;   // [D]
  float* out;       // [D]
  int kv_head;
  int context;      // keys [0, context)
};

// Two passes over the blocks: scores (then an exact softmax over the whole
// row, which the scratch buffer makes cheap), then the weighted sum of values.
void attend_one_head(const PagedAttentionParams& p, const HeadTask& task) {
  const PagedKvLayout& l = p.layout;
  const int d = l.head_dim;
  float* scores = p.scratch;
  float max_score = -INFINITY;
  for (int base = 0; base < task.context; base += l.block_size) {
    const int n = std::min(l.block_size, task.context - base);
    const float* k = p.k_cache + l.offset(p.block_table[base / l.block_size], task.kv_head, 0);
    for (int s = 0; s < n; ++s) {
      const float* ks = k + s * d;
      float dot = 0.f;
#pragma omp simd reduction(+ : dot)
      for (int i = 0; i < d; ++i) dot += task.q[i] * ks[i];
      scores[base + s] = dot * p.scale;
      max_score = std::max(max_score, scores[base + s]);
    }
  }
  double sum = 0;
  for (int j = 0; j < task.context; ++j) {
    scores[j] = std::exp(scores[j] - max_score);
    sum += scores[j];
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  std::fill(task.out, task.out + d, 0.f);
  for (int base = 0; base < task.context; base += l.block_size) {
    const int n = std::min(l.block_size, task.context - base);
    const float* v = p.v_cache + l.offset(p.block_table[base / l.block_size], task.kv_head, 0);
    for (int s = 0; s < n; ++s) {
      const float w = scores[base + s] * inv_sum;
      const float* vs = v + s * d;
#pragma omp simd
      for (int i = 0; i < d; ++i) task.out[i] += w * vs[i];
    }
  }
}

}  // namespace

void paged_attention(const PagedAttentionParams& p) {
  const int group = p.num_heads / p.layout.num_kv_heads;
  const int d = p.layout.head_dim;
  for (int t = 0; t < p.num_tokens; ++t) {
    for (int h = p.head_begin; h < p.head_end; ++h) {
      attend_one_head(p, HeadTask{.q = p.q + static_cast<long>(t) * p.q_stride + h * d,
                                  .out = p.out + static_cast<long>(t) * p.out_stride + h * d,
                                  .kv_head = h / group,
                                  .context = p.start_pos + t + 1});
    }
  }
}

}  // namespace parklock::kernels::cpu

#include "kernels/cpu/rope.h"

#include <cmath>

namespace parklock::kernels::cpu {

void rope_table(const RopeTableParams& p) {
  const int half = p.head_dim / 2;
  for (int t = 0; t < p.num_tokens; ++t) {
    for (int i = 0; i < half; ++i) {
      // Angles in double: positions reach thousands, and float rounding of
      // pos * freq would shift high positions by whole fractions of a turn.
      const double inv_freq = std::pow(static_cast<double>(p.theta), -2.0 * i / p.head_dim);
      const double angle = p.positions[t] * inv_freq;
      p.cos[t * half + i] = static_cast<float>(std::cos(angle));
      p.sin[t * half + i] = static_cast<float>(std::sin(angle));
    }
  }
}

void rope_apply(const RopeApplyParams& p) {
  const int half = p.head_dim / 2;
  for (int t = 0; t < p.num_tokens; ++t) {
    const float* c = p.cos + t * half;
    const float* s = p.sin + t * half;
    float* row = p.x + static_cast<long>(t) * p.row_stride;
    for (int h = 0; h < p.num_heads; ++h) {
      float* x1 = row + h * p.head_dim;
      float* x2 = x1 + half;
#pragma omp simd
      for (int i = 0; i < half; ++i) {
        const float a = x1[i], b = x2[i];
        x1[i] = a * c[i] - b * s[i];
        x2[i] = b * c[i] + a * s[i];
      }
    }
  }
}

}  // namespace parklock::kernels::cpu

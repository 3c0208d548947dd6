#include "kernels/cpu/rms_norm.h"

#include <cmath>

namespace parklock::kernels::cpu {

void rms_norm(const RmsNormParams& p) {
  for (int r = 0; r < p.rows; ++r) {
    const float* x = p.in + static_cast<long>(r) * p.in_stride;
    float* y = p.out + static_cast<long>(r) * p.out_stride;
    // Sum of squares in double: H reaches 2048+ and the norm sets the scale
    // of everything after it.
    double ss = 0;
#pragma omp simd reduction(+ : ss)
    for (int i = 0; i < p.dim; ++i) ss += static_cast<double>(x[i]) * x[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / p.dim + p.eps));
    for (int i = 0; i < p.dim; ++i) y[i] = x[i] * inv * p.weight[i];
  }
}

}  // namespace parklock::kernels::cpu

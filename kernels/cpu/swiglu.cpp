#include "kernels/cpu/swiglu.h"

#include <cmath>

namespace parklock::kernels::cpu {

void swiglu(const SwigluParams& p) {
  for (int r = 0; r < p.rows; ++r) {
    const float* g = p.gate_up + static_cast<long>(r) * 2 * p.dim;
    const float* u = g + p.dim;
    float* y = p.out + static_cast<long>(r) * p.dim;
    for (int i = 0; i < p.dim; ++i) y[i] = g[i] / (1.f + std::exp(-g[i])) * u[i];
  }
}

}  // namespace parklock::kernels::cpu

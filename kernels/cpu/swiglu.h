// SwiGLU activation of Llama's MLP: act = silu(gate) * up, where gate and up
// are the two halves of the fused gate_up projection output.
#pragma once

namespace parklock::kernels::cpu {

struct SwigluParams {
  int rows = 0;                    // T
  int dim = 0;                     // F
  const float* gate_up = nullptr;  // [T, 2F]: gate in [0, F), up in [F, 2F)
  float* out = nullptr;            // [T, F]
};

void swiglu(const SwigluParams& p);

}  // namespace parklock::kernels::cpu

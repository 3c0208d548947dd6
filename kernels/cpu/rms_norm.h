// RMSNorm: y = x / sqrt(mean(x²) + eps) * weight (Llama's norm: no mean
// subtraction, no bias).
#pragma once

namespace parklock::kernels::cpu {

struct RmsNormParams {
  int rows = 0;               // T
  int dim = 0;                // H
  const float* in = nullptr;  // [rows, dim], row stride in_stride
  int in_stride = 0;
  const float* weight = nullptr;  // [dim]
  float* out = nullptr;           // [rows, dim], row stride out_stride; may alias in
  int out_stride = 0;
  float eps = 1e-5f;
};

void rms_norm(const RmsNormParams& p);

}  // namespace parklock::kernels::cpu

// Shared helpers of the CUDA parity tests: the skip when no device is
// present, fresh random inputs (never zeros), bf16 rounding, device copies
// with poisoned outputs, and error norms.
#pragma once

#include <cuda_bf16.h>
#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/device_buffer.h"

namespace parklock::kernels::cuda::testing {

// Every GPU test starts with this: without a device (or driver) it reports
// itself skipped with the runtime's reason.
#define PARKLOCK_REQUIRE_CUDA_DEVICE()                                                 \
  do {                                                                                 \
    if (!::parklock::kernels::cuda::cuda_device_available())                           \
      GTEST_SKIP() << "no CUDA device: " << ::parklock::kernels::cuda::cuda_unavailable_reason(); \
  } while (0)

using bf16 = __nv_bfloat16;

inline float round_bf16(float x) { return __bfloat162float(__float2bfloat16(x)); }

// Uniform in ±[lo, hi]: bounded away from zero, random sign.
inline std::vector<float> random_floats(size_t n, std::mt19937& rng, float lo = 0.05f, float hi = 1.f) {
  std::uniform_real_distribution<float> mag(lo, hi);
  std::bernoulli_distribution neg(0.5);
  std::vector<float> v(n);
  for (auto& x : v) x = neg(rng) ? -mag(rng) : mag(rng);
  return v;
}

// Rounded to bf16 in place, and returned as bf16: the CPU reference then
// sees exactly the values the GPU kernel reads.
inline std::vector<bf16> to_bf16_rounding(std::vector<float>& v) {
  std::vector<bf16> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    out[i] = __float2bfloat16(v[i]);
    v[i] = __bfloat162float(out[i]);
  }
  return out;
}

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& host) {
  DeviceBuffer<T> d(host.size());
  PARKLOCK_CUDA_CHECK(cudaMemcpy(d.data(), host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

// All bits set: NaN in bf16 and fp32, so an element the kernel fails to
// write fails the comparison.
template <typename T>
DeviceBuffer<T> poisoned(size_t n) {
  DeviceBuffer<T> d(n);
  PARKLOCK_CUDA_CHECK(cudaMemset(d.data(), 0xFF, d.bytes()));
  return d;
}

template <typename T>
std::vector<T> to_host(const DeviceBuffer<T>& d) {
  PARKLOCK_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<T> h(d.size());
  PARKLOCK_CUDA_CHECK(cudaMemcpy(h.data(), d.data(), d.bytes(), cudaMemcpyDeviceToHost));
  return h;
}

inline std::vector<float> to_float(const std::vector<bf16>& v) {
  std::vector<float> f(v.size());
  for (size_t i = 0; i < v.size(); ++i) f[i] = __bfloat162float(v[i]);
  return f;
}

// ‖out − ref‖₂ / ‖ref‖₂ in double; NaN in out gives NaN (never passes a
// `<` comparison).
inline double rel_l2(const std::vector<float>& out, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(out[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return std::sqrt(num / den);
}

// Elements that differ by more than `rel` of their own magnitude plus `abs`.
inline int count_outside(const std::vector<float>& out, const std::vector<float>& ref, double rel, double abs) {
  int bad = 0;
  for (size_t i = 0; i < ref.size(); ++i)
    if (!(std::abs(static_cast<double>(out[i]) - ref[i]) <= rel * std::abs(ref[i]) + abs)) ++bad;
  return bad;
}

// Distinct physical block ids for `count` logical blocks, scrambled.
inline std::vector<int32_t> scrambled_blocks(int first, int count, std::mt19937& rng) {
  std::vector<int32_t> ids(count);
  for (int i = 0; i < count; ++i) ids[i] = first + i;
  std::shuffle(ids.begin(), ids.end(), rng);
  return ids;
}

}  // namespace parklock::kernels::cuda::testing

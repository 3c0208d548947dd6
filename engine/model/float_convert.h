// Conversions between fp32 and the 16-bit float formats safetensors files
// carry (IEEE binary16 "F16", bfloat16 "BF16"). Rounding is to nearest, ties
// to even, as in every framework that writes these files.
#pragma once

#include <bit>
#include <cstdint>

namespace parklock::engine {

inline float bf16_to_f32(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>((u >> 16) | 0x40);  // quiet NaN
  const uint32_t rounding = 0x7FFF + ((u >> 16) & 1);
  return static_cast<uint16_t>((u + rounding) >> 16);
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // inf / NaN
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
  // Subnormal (or zero): mant * 2^-24, exact in fp32.
  const float magnitude = static_cast<float>(mant) * (1.f / 16777216.f);
  return sign ? -magnitude : magnitude;
}

inline uint16_t f32_to_f16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000);
  const uint32_t abs = u & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return sign | 0x7E00;          // NaN
  if (abs >= 0x477FF000u) return sign | 0x7C00;         // rounds to >= 65520: infinity
  if (abs < 0x38800000u) {                              // below 2^-14: f16 subnormal or zero
    // Scale so the f16 subnormal unit (2^-24) becomes 1, then round to even.
    const float scaled = std::bit_cast<float>(abs) * 16777216.f;
    const uint32_t whole = static_cast<uint32_t>(scaled);
    const float frac = scaled - static_cast<float>(whole);
    const uint32_t rounded = whole + ((frac > 0.5f || (frac == 0.5f && (whole & 1))) ? 1 : 0);
    return sign | static_cast<uint16_t>(rounded);
  }
  // Normal: rebias the exponent (127 -> 15) and round the 13 dropped bits.
  const uint32_t rebased = abs - (112u << 23);
  const uint32_t rounding = 0xFFF + ((rebased >> 13) & 1);
  return sign | static_cast<uint16_t>((rebased + rounding) >> 13);
}

}  // namespace parklock::engine

#pragma once
// bfloat16: the upper 16 bits of an IEEE fp32 (sign, 8-bit exponent, 7 stored mantissa bits).
// Portable scalar conversions, with the rounding of PyTorch's c10::BFloat16 and of the AVX512-BF16
// conversion instructions: nearest, ties to even; NaN stays NaN. The instructions also flush fp32
// denormals (|x| < 2^-126) to zero, which these functions do not.
#include <cstdint>
#include <cstring>

namespace vitscope::kernels {

// The bf16 nearest to x (ties to even). NaN gives a quiet NaN of the same sign and upper payload;
// finite values beyond the largest bf16 round to ±Inf.
inline std::uint16_t float_to_bf16(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  // Rounding a NaN with a payload only in the low 16 bits would turn it into Inf.
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

inline float bf16_to_float(std::uint16_t h) {
  const std::uint32_t bits = std::uint32_t{h} << 16;
  float x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

// x rounded to the nearest bf16, as a float.
inline float round_to_bf16(float x) { return bf16_to_float(float_to_bf16(x)); }

}  // namespace vitscope::kernels

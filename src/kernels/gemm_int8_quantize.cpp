// Per-row int8 quantisation with xsimd (see gemm_int8_quantize.hpp).
#include "kernels/gemm_int8_quantize.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/simd.hpp"

namespace vitscope::kernels::gemm_int8_detail {

using simd::Batch;
using simd::kLanes;
using IntBatch = xsimd::batch<std::int32_t>;

template <class Byte>
float quantize_row(const float* x, int k, Byte* q, int bias) {
  // max |x|, and x − x summed: 0 for finite values, NaN as soon as one is a NaN or an infinity.
  Batch amax(0.0f), finite(0.0f);
  int i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    const Batch v = xsimd::load_unaligned(x + i);
    amax = xsimd::max(amax, xsimd::abs(v));
    finite += v - v;
  }
  float top = simd::reduce_max(amax), nan_check = simd::reduce_add(finite);
  for (; i < k; ++i) {
    top = std::max(top, std::fabs(x[i]));
    nan_check += x[i] - x[i];
  }
  if (std::isnan(nan_check) || top == 0.0f) {
    std::fill(q, q + k, static_cast<Byte>(bias));
    return std::isnan(nan_check) ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
  }
  const float inverse = 127.0f / top;
  // Rounded in fp32 to nearest even (nearbyint in the default rounding mode), clamped, offset.
  const Batch lo(-127.0f), hi(127.0f), scale(inverse);
  i = 0;
  for (; i + kLanes <= k; i += kLanes) {
    const Batch v = xsimd::min(hi, xsimd::max(lo, xsimd::nearbyint(xsimd::load_unaligned(x + i) * scale)));
    const IntBatch rounded = xsimd::batch_cast<std::int32_t>(v) + IntBatch(bias);
#if defined(__AVX512F__)
    static_assert(kLanes == 16, "one zmm of int32 narrows to 16 bytes");
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + i), _mm512_cvtepi32_epi8(rounded));  // vpmovdb
#else
    alignas(64) std::int32_t lanes[kLanes];
    rounded.store_aligned(lanes);
    for (int l = 0; l < kLanes; ++l) q[i + l] = static_cast<Byte>(lanes[l]);
#endif
  }
  for (; i < k; ++i) {
    const float v = std::min(127.0f, std::max(-127.0f, std::nearbyint(x[i] * inverse)));
    q[i] = static_cast<Byte>(static_cast<int>(v) + bias);
  }
  return top / 127.0f;
}

template float quantize_row<std::int8_t>(const float*, int, std::int8_t*, int);
template float quantize_row<std::uint8_t>(const float*, int, std::uint8_t*, int);

}  // namespace vitscope::kernels::gemm_int8_detail

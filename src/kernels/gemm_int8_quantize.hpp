#pragma once
// Per-row symmetric int8 quantisation, vectorised: the operand preparation of the int8 GEMM
// (vitscope/kernels/gemm_int8.hpp has the definition; quantize_rows_int8_ref in reference.hpp is
// its scalar reference, equal bit for bit).
#include <cstdint>

namespace vitscope::kernels::gemm_int8_detail {

// q[i] = round(x[i] · 127 / max |x|) + bias for i < k (bias 0: signed values; 128: the unsigned
// bytes the AVX512-VNNI kernel multiplies); returns the scale max |x| / 127 (0 for an all-zero row,
// NaN, with every q = bias, for a row holding a NaN or an infinity).
template <class Byte>
float quantize_row(const float* x, int k, Byte* q, int bias);

}  // namespace vitscope::kernels::gemm_int8_detail

#pragma once
// The scalar references of the kernels: plain loops that read like the maths, each with the same
// contract as the fast kernel of the same name without _ref (see its public header). The tests
// compare every fast kernel with its reference; nothing else calls them.
#include <cstddef>
#include <cstdint>

#include "vitscope/kernels/conv.hpp"
#include "vitscope/kernels/gemm.hpp"

namespace vitscope::kernels {

// ---- vitscope/kernels/gemm.hpp --------------------------------------------
void linear_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out, int ldo,
                const LinearEpilogue& epilogue);
void gemm_abt_ref(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                  int ldb, float* c, int ldc);
void gemm_ab_ref(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c,
                 int ldc);

// ---- vitscope/kernels/gemm_bf16.hpp ---------------------------------------
// linear_ref on bf16-rounded copies of a and b.
void linear_bf16_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out,
                     int ldo, const LinearEpilogue& epilogue);
void gemm_abt_bf16_ref(int m, int n, int k, float alpha, const float* a, int lda, const float* b,
                       int ldb, float* c, int ldc);
void gemm_ab_bf16_ref(int m, int n, int k, const float* a, int lda, const float* b, int ldb,
                      float* c, int ldc);

// ---- vitscope/kernels/gemm_int8.hpp ---------------------------------------
void quantize_rows_int8_ref(const float* x, std::ptrdiff_t ldx, int rows, int k, std::int8_t* q,
                            std::ptrdiff_t ldq, float* scale);
// Both operands quantised per row with quantize_rows_int8, the products summed in 64-bit integers,
// then out (=|+=) act(float(sum) · (s_a · s_b) + bias).
void linear_int8_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out, int ldo,
                     const LinearEpilogue& epilogue);

// ---- vitscope/kernels/conv.hpp --------------------------------------------
void depthwise_conv3x3_ref(const ConvGeometry& g, const float* in, const float* weight,
                           const float* bias, Clamp clamp, float* out);
void depthwise_conv3x3_input_grad_ref(const ConvGeometry& g, const float* grad_out,
                                      const float* weight, float* grad_in);
void conv2d_ref(const ConvGeometry& g, const float* in, const float* weight, int out_channels,
                const float* bias, Clamp clamp, float* out);
void conv2d_input_grad_ref(const ConvGeometry& g, const float* grad_out, const float* weight,
                           int out_channels, float* grad_in);
void max_pool_ref(const ConvGeometry& g, const float* in, float* out);

// ---- vitscope/kernels/gelu.hpp --------------------------------------------
void gelu_ref(float* x, std::size_t n);

// ---- vitscope/kernels/layernorm.hpp ---------------------------------------
void layernorm_ref(const float* x, int ldx, float* out, int ldo, int rows, int cols,
                   const float* gamma, const float* beta, float eps);

// ---- vitscope/kernels/softmax.hpp -----------------------------------------
void softmax_rows_ref(float* x, int rows, int cols, int ld);

}  // namespace vitscope::kernels

#pragma once
// Backward passes of the elementwise and row-wise layers (input gradients only): plain loops that
// read like the maths. The matrix products of a backward pass are the forward GEMMs (gemm.hpp).

namespace vitscope::kernels {

// LayerNorm y = x̂ · γ + β with x̂ = (x − mean) · rstd, per row of `cols`. Given dy[rows, cols],
// the normalised rows xhat[rows, cols] and rstd[rows] of the forward pass:
//   dx (=|+=) rstd · (g − mean(g) − x̂ · mean(g · x̂)),  g = dy · γ.
// accumulate adds into dx (a residual connection's gradient already there).
void layernorm_backward(const float* dy, const float* xhat, const float* rstd, const float* gamma,
                        int rows, int cols, float* dx, bool accumulate);

// Exact GELU y = x · Φ(x): dy[n] ← dy · (Φ(x) + x · φ(x)), in place, x the pre-activations.
void gelu_backward(const float* x, float* dy, int n);

// Softmax p = softmax(s) per row: dp[rows, cols] ← p · (dp − Σ_j dp_j · p_j), in place (dp becomes ds).
void softmax_backward(const float* p, float* dp, int rows, int cols);

}  // namespace vitscope::kernels

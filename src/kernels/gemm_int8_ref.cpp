// Scalar reference of the int8 product (see reference.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/reference.hpp"
#include "vitscope/kernels/gemm_int8.hpp"

namespace vitscope::kernels {

void quantize_rows_int8_ref(const float* x, std::ptrdiff_t ldx, int rows, int k, std::int8_t* q,
                            std::ptrdiff_t ldq, float* scale) {
  for (int r = 0; r < rows; ++r) {
    const float* in = x + r * ldx;
    std::int8_t* out = q + r * ldq;
    float amax = 0.0f;
    bool finite = true;
    for (int i = 0; i < k; ++i) {
      finite = finite && std::isfinite(in[i]);
      amax = std::max(amax, std::fabs(in[i]));
    }
    if (!finite || amax == 0.0f) {
      std::fill(out, out + k, std::int8_t{0});
      scale[r] = finite ? 0.0f : std::numeric_limits<float>::quiet_NaN();
      continue;
    }
    scale[r] = amax / 127.0f;
    const float inverse = 127.0f / amax;
    for (int i = 0; i < k; ++i)
      out[i] = static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, std::nearbyint(in[i] * inverse))));
  }
}

void linear_int8_ref(const float* a, int lda, int m, const float* b, int n, int k, float* out, int ldo,
                     const LinearEpilogue& epilogue) {
  std::vector<std::int8_t> qa(static_cast<std::size_t>(m) * k), qb(static_cast<std::size_t>(n) * k);
  std::vector<float> sa(static_cast<std::size_t>(m)), sb(static_cast<std::size_t>(n));
  quantize_rows_int8_ref(a, lda, m, k, qa.data(), k, sa.data());
  quantize_rows_int8_ref(b, k, n, k, qb.data(), k, sb.data());
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      std::int64_t sum = 0;
      for (int p = 0; p < k; ++p)
        sum += std::int64_t{qa[static_cast<std::size_t>(i) * k + p]} * qb[static_cast<std::size_t>(j) * k + p];
      float x = static_cast<float>(sum) * (sa[static_cast<std::size_t>(i)] * sb[static_cast<std::size_t>(j)]);
      if (epilogue.bias) x += epilogue.bias[j];
      if (epilogue.gelu) gelu_ref(&x, 1);
      if (epilogue.residual) x += epilogue.residual[static_cast<std::ptrdiff_t>(i) * ldo + j];
      float& o = out[static_cast<std::ptrdiff_t>(i) * ldo + j];
      if (epilogue.accumulate) x += o;
      o = std::min(std::max(x, epilogue.lo), epilogue.hi);
    }
  }
}

}  // namespace vitscope::kernels

// AVX512-VNNI micro-kernel of the int8 GEMM (see gemm_int8_layout.hpp for the layouts).
//
// CMake compiles this file with -mavx512vnni (and F/BW/VL) whatever the target, and its functions
// run only after the runtime check: as in gemm_bf16_avx512bf16.cpp, nothing inline or templated is
// shared with other files, only intrinsics are used, everything but the entry point is in an
// anonymous namespace.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/gemm_int8_layout.hpp"

#if !defined(__AVX512VNNI__) || !defined(__AVX512BW__)
#error "gemm_int8_avx512vnni.cpp must be compiled with -mavx512vnni -mavx512bw (see CMakeLists.txt)"
#endif

namespace vitscope::kernels::gemm_int8_detail::avx512vnni {
namespace {

// sums[kMR][0 : 16·NV) (=|+=) Σ_p a[r·lda4 + p] ⊙ b[p][0 : 16·NV): the first NV vectors of a panel.
template <int NV>
void micro_kernel(int kc4, const std::uint32_t* a, std::ptrdiff_t lda4, const std::uint32_t* b,
                  std::int32_t* sums, bool accumulate) {
  __m512i acc[kMR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v)
      acc[r][v] = accumulate ? _mm512_loadu_si512(sums + r * kNR + v * kZmmInts) : _mm512_setzero_si512();
  }
  const std::uint32_t* rows[kMR];
#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) rows[r] = a + r * lda4;

  for (int p = 0; p < kc4; ++p) {
    __m512i bv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_si512(b + v * kZmmInts);
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
      const __m512i av = _mm512_set1_epi32(static_cast<int>(rows[r][p]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, bv[v]);
    }
    b += kNR;
  }

#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) _mm512_storeu_si512(sums + r * kNR + v * kZmmInts, acc[r][v]);
  }
}

template <int NV>
void dot_panels_of_width(int kc4, const std::uint32_t* a, std::ptrdiff_t lda4, int panels, const std::uint32_t* b,
                         std::int32_t* sums, bool accumulate) {
  for (int ip = 0; ip < panels; ++ip)
    micro_kernel<NV>(kc4, a + ip * kMR * lda4, lda4, b, sums + ip * kMR * kNR, accumulate);
}

static_assert(kNV == 4, "dot_panels dispatches on 1 to 4 vectors");

}  // namespace

void dot_panels(int kc4, const std::uint32_t* a, std::ptrdiff_t lda4, int panels, const std::uint32_t* b,
                int cols, std::int32_t* sums, bool accumulate) {
  switch ((cols + kZmmInts - 1) / kZmmInts) {
    case 1: dot_panels_of_width<1>(kc4, a, lda4, panels, b, sums, accumulate); break;
    case 2: dot_panels_of_width<2>(kc4, a, lda4, panels, b, sums, accumulate); break;
    case 3: dot_panels_of_width<3>(kc4, a, lda4, panels, b, sums, accumulate); break;
    default: dot_panels_of_width<4>(kc4, a, lda4, panels, b, sums, accumulate); break;
  }
}

}  // namespace vitscope::kernels::gemm_int8_detail::avx512vnni

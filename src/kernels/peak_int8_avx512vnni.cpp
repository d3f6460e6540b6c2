// The int8 side of the peak estimate: how many 512-bit vpdpbusd a core retires per cycle.
//
// CMake compiles this file with -mavx512vnni whatever the target; it runs only after the runtime
// check (see gemm_int8_avx512vnni.cpp for the rules such files follow).
#include <immintrin.h>

#include <algorithm>
#include <chrono>

#if !defined(__AVX512VNNI__)
#error "peak_int8_avx512vnni.cpp must be compiled with -mavx512vnni (see CMakeLists.txt)"
#endif

namespace vitscope::kernels::avx512vnni {

// Integer operations per second (2 per multiply-add, 64 multiply-adds per vpdpbusd) of one thread
// running 12 independent vpdpbusd chains over registers, the fastest of a few trials.
double vnni_loop_gops() {
  constexpr int kChains = 12;
  constexpr long kSteps = 1'000'000;
  double best = 0;
  for (int trial = 0; trial < 4; ++trial) {
    __m512i acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(c);
    const __m512i a = _mm512_set1_epi32(0x01020304), b = _mm512_set1_epi32(0x01010101);
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < kSteps; ++i)
      for (int c = 0; c < kChains; ++c) acc[c] = _mm512_dpbusd_epi32(acc[c], a, b);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    __m512i sum = acc[0];
    for (int c = 1; c < kChains; ++c) sum = _mm512_add_epi32(sum, acc[c]);
    alignas(64) int lanes[16];
    _mm512_store_si512(lanes, sum);
    volatile int sink = lanes[0] + lanes[15];  // keeps the loop from being optimised away
    (void)sink;
    best = std::max(best, 2.0 * 64 * kChains * static_cast<double>(kSteps) / seconds / 1e9);
  }
  return best;
}

}  // namespace vitscope::kernels::avx512vnni

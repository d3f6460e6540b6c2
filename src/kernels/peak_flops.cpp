// Estimating the machine's fp32 peak: the clock is timed with a chain of dependent integer adds
// (one per cycle on every x86-64 core of the last decade, whatever turbo does to the nominal
// frequency), the vector width comes from the build's ISA, and the number of full-width FMAs a core
// issues per cycle is measured with an FMA-only register loop, rounded to a whole number. It cannot
// be told from the vendor or ISA alone: AMD Zen 4 runs a 512-bit FMA as two 256-bit halves (1 per
// cycle) where Zen 5 server and desktop cores have two 512-bit pipes (2 per cycle) and Zen 5 laptop
// cores again one; Intel AVX-512 parts have one or two.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <vector>

#include "kernels/simd.hpp"
#include "vitscope/kernels/cpu_features.hpp"
#include "vitscope/kernels/peak_flops.hpp"

namespace vitscope::kernels {
namespace avx512vnni {
double vnni_loop_gops();  // peak_int8_avx512vnni.cpp; only where supports_avx512_vnni_kernels
}  // namespace avx512vnni
namespace {

using Clock = std::chrono::steady_clock;

// The fastest of several short trials, so that a trial the scheduler interrupted does not count.
double measure_clock_ghz() {
#if defined(__x86_64__)
  constexpr long kBlocks = 20000, kAddsPerBlock = 1000;
  double best = 0;
  for (int trial = 0; trial < 8; ++trial) {
    long x = 0;
    const auto start = Clock::now();
    for (long i = 0; i < kBlocks; ++i) asm volatile(".rept 1000\n\taddq $1, %0\n\t.endr" : "+r"(x));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    best = std::max(best, static_cast<double>(kBlocks * kAddsPerBlock) / seconds / 1e9);
  }
  return best;
#else
  return 0;
#endif
}

// GFLOP/s of one thread running independent FMA chains that never leave the registers: the
// fastest of a few trials, so that a trial the scheduler interrupted does not count. 12 chains
// cover two pipes of 4 to 5 cycles' latency.
double fma_loop_gflops() {
  using simd::Batch;
  constexpr int kChains = 12;
  constexpr long kSteps = 1'000'000;
  double best = 0;
  for (int trial = 0; trial < 4; ++trial) {
    Batch acc[kChains];
    for (int c = 0; c < kChains; ++c) acc[c] = Batch(1.0f + 0.001f * c);
    const Batch a(0.999999f), b(1e-7f);
    const auto start = Clock::now();
    for (long i = 0; i < kSteps; ++i)
      for (int c = 0; c < kChains; ++c) acc[c] = xsimd::fma(acc[c], a, b);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    Batch sum(0.0f);
    for (int c = 0; c < kChains; ++c) sum += acc[c];
    volatile float sink = simd::reduce_add(sum);  // keeps the loop from being optimised away
    (void)sink;
    best = std::max(best, 2.0 * simd::kLanes * kChains * static_cast<double>(kSteps) / seconds / 1e9);
  }
  return best;
}

}  // namespace

PeakEstimate estimate_peak(ThreadPool* pool) {
  PeakEstimate p;
  p.threads = pool ? pool->size() : 1;
  p.simd_lanes = simd::kLanes;
  p.isa = p.simd_lanes >= 16 ? "AVX-512" : p.simd_lanes == 8 ? "AVX2+FMA" : "SSE";
  p.clock_ghz = measure_clock_ghz();
  std::mutex mutex;
  double total = 0, fastest_thread = 0;
  auto run = [&](int) {
    const double g = fma_loop_gflops();
    std::lock_guard<std::mutex> lock(mutex);
    total += g;
    fastest_thread = std::max(fastest_thread, g);
  };
  if (pool)
    pool->run(pool->size(), run);
  else
    run(0);
  p.measured_gflops = total;
  // Whole FMAs per cycle: 1.9 measured is 2 pipes slowed by a timer tick, not 1.9 pipes.
  const double flops_per_fma_cycle = p.clock_ghz * p.simd_lanes * 2;
  p.measured_fma_per_cycle = flops_per_fma_cycle > 0 ? fastest_thread / flops_per_fma_cycle : 0;
  p.fma_per_cycle = std::max(1, static_cast<int>(std::lround(p.measured_fma_per_cycle)));
  p.theoretical_gflops = p.threads * flops_per_fma_cycle * p.fma_per_cycle;
  char fma_rate[32];
  std::snprintf(fma_rate, sizeof fma_rate, "%.2f", p.measured_fma_per_cycle);
  p.how = "clock " + std::to_string(p.clock_ghz).substr(0, 4) + " GHz timed with dependent adds x " +
          std::to_string(p.simd_lanes) + " fp32 lanes (" + p.isa + ") x 2 flops/FMA x " +
          std::to_string(p.fma_per_cycle) + " FMA/cycle (an FMA loop retires " + fma_rate +
          " per cycle) x " + std::to_string(p.threads) + " threads";
  if (supports_avx512_vnni_kernels(cpu_features()) && p.clock_ghz > 0) {
    // One thread is enough to count the pipes: the fp32 loop above showed the cores alike.
    constexpr double kOpsPerInstruction = 2.0 * 64;
    p.measured_vnni_per_cycle = avx512vnni::vnni_loop_gops() / (p.clock_ghz * kOpsPerInstruction);
    p.vnni_per_cycle = std::max(1, static_cast<int>(std::lround(p.measured_vnni_per_cycle)));
    p.int8_theoretical_gops = p.threads * p.clock_ghz * kOpsPerInstruction * p.vnni_per_cycle;
    char vnni_rate[32];
    std::snprintf(vnni_rate, sizeof vnni_rate, "%.2f", p.measured_vnni_per_cycle);
    p.int8_how = "clock x 64 multiply-adds per 512-bit vpdpbusd x 2 ops x " + std::to_string(p.vnni_per_cycle) +
                 " vpdpbusd/cycle (a vpdpbusd loop retires " + vnni_rate + " per cycle) x " +
                 std::to_string(p.threads) + " threads";
  }
  return p;
}

}  // namespace vitscope::kernels

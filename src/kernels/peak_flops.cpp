// Estimating the machine's fp32 peak: the clock is timed with a chain of dependent integer adds
// (one per cycle on every x86-64 core of the last decade, whatever turbo does to the nominal
// frequency), the vector width comes from the build's ISA, and the number of FMA pipes from the
// vendor: AMD Zen 4 executes a 512-bit FMA as two 256-bit halves (1 per cycle); Intel AVX-512 server
// cores and every AVX2 core have 2 FMA pipes. An FMA-only register loop then checks the estimate.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <mutex>
#include <vector>

#include "kernels/simd.hpp"
#include "vitscope/kernels/peak_flops.hpp"

namespace vitscope::kernels {
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

bool is_amd() {
#if defined(__x86_64__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  asm volatile("cpuid" : "=a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx) : "a"(0), "c"(0));
  char vendor[13] = {};
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  return std::strcmp(vendor, "AuthenticAMD") == 0;
#else
  return false;
#endif
}

// GFLOP/s of one thread running independent FMA chains that never leave the registers.
double fma_loop_gflops() {
  using simd::Batch;
  constexpr int kChains = 12;
  constexpr long kSteps = 2'000'000;
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
  return 2.0 * simd::kLanes * kChains * static_cast<double>(kSteps) / seconds / 1e9;
}

}  // namespace

PeakEstimate estimate_peak(ThreadPool* pool) {
  PeakEstimate p;
  p.threads = pool ? pool->size() : 1;
  p.simd_lanes = simd::kLanes;
  p.isa = p.simd_lanes >= 16 ? "AVX-512" : p.simd_lanes == 8 ? "AVX2+FMA" : "SSE";
  p.fma_per_cycle = (p.simd_lanes >= 16 && is_amd()) ? 1 : 2;
  p.clock_ghz = measure_clock_ghz();
  p.theoretical_gflops = p.threads * p.clock_ghz * p.simd_lanes * 2 * p.fma_per_cycle;
  std::mutex mutex;
  double total = 0;
  auto run = [&](int) {
    const double g = fma_loop_gflops();
    std::lock_guard<std::mutex> lock(mutex);
    total += g;
  };
  if (pool)
    pool->run(pool->size(), run);
  else
    run(0);
  p.measured_gflops = total;
  p.how = "clock " + std::to_string(p.clock_ghz).substr(0, 4) + " GHz timed with dependent adds x " +
          std::to_string(p.simd_lanes) + " fp32 lanes (" + p.isa + ") x 2 flops/FMA x " +
          std::to_string(p.fma_per_cycle) + " FMA/cycle x " + std::to_string(p.threads) + " threads";
  return p;
}

}  // namespace vitscope::kernels

#pragma once
// How fast this CPU could go: the fp32 peak that bench results are compared against.
#include <string>

#include "vitscope/core/thread_pool.hpp"

namespace vitscope::kernels {

struct PeakEstimate {
  double clock_ghz = 0;          // measured: a chain of dependent integer adds retires 1 per cycle
  int simd_lanes = 0;            // fp32 lanes of the widest vectors the kernels are built for
  int fma_per_cycle = 0;         // full-width vector FMAs a core issues per cycle (measured, rounded)
  double measured_fma_per_cycle = 0;  // what the FMA loop retired per cycle on the fastest thread
  int threads = 0;
  double theoretical_gflops = 0; // threads × clock × lanes × 2 × fma_per_cycle
  double measured_gflops = 0;    // an FMA-only loop over registers, on every thread
  std::string isa;               // "AVX-512", "AVX2+FMA", "SSE2", ...
  std::string how;               // one line saying how the numbers were obtained
  // The int8 peak, estimated the same way, where the CPU has AVX512-VNNI (else all 0 / empty):
  // threads × clock × 64 multiply-adds per 512-bit vpdpbusd × 2 × vpdpbusd per cycle.
  int vnni_per_cycle = 0;              // measured by a vpdpbusd-only register loop, rounded
  double measured_vnni_per_cycle = 0;  // what that loop retired per cycle on the fastest thread
  double int8_theoretical_gops = 0;
  std::string int8_how;
};

// Takes about 0.2 s (0.3 s with the int8 loop). pool may be null (one thread).
PeakEstimate estimate_peak(ThreadPool* pool);

}  // namespace vitscope::kernels

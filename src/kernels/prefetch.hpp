#pragma once
// Software prefetch of the B micro-panel a GEMM tile reads next.
//
// A micro-panel of packed fp32 weights (48 KiB) is read by the first A pass of a tile at
// ~100 GB/s of demand, far beyond what one core's demand misses get from DRAM. With weights
// larger than the L3 (every ViT from DeiT-Small up) linear layers ran ~13% below their speed with
// the weights in cache. The fp32 driver asks for the next micro-panel a slice per A pass, so that
// the requests are few at a time and spread over the current panel's work. The bf16 driver does
// not: the same scheme over its 96 KiB micro-panels measured 3-7% slower on ViT-Base.
#include <cstddef>

namespace vitscope::kernels {

// Asks for slice `part` of `parts` of [data, data + bytes) to be brought into L2.
inline void prefetch_slice(const void* data, std::size_t bytes, int part, int parts) {
  constexpr std::size_t kLine = 64;
  const std::size_t lines = (bytes + kLine - 1) / kLine;
  const std::size_t first = lines * part / parts, end = lines * (part + 1) / parts;
  const char* base = static_cast<const char*>(data);
  for (std::size_t line = first; line < end; ++line) __builtin_prefetch(base + line * kLine, 0, 2);
}

// Asks for the rows × bytes of an output tile (row stride ld floats) to be brought into L1 for
// writing, and for the same part of the residual (null: none) for reading. A GEMM with a short K
// (a 1×1 convolution over 64 channels: 64 multiply-adds per output) spends a good part of its
// time waiting for the output lines it writes when they are not in cache.
inline void prefetch_tile(float* out, const float* residual, std::ptrdiff_t ld, int rows, std::size_t bytes) {
  constexpr std::size_t kLine = 64;
  for (int r = 0; r < rows; ++r) {
    const char* o = reinterpret_cast<const char*>(out + r * ld);
    const char* x = residual ? reinterpret_cast<const char*>(residual + r * ld) : nullptr;
    for (std::size_t b = 0; b < bytes; b += kLine) {
      __builtin_prefetch(o + b, 1, 3);
      if (x) __builtin_prefetch(x + b, 0, 3);
    }
  }
}

}  // namespace vitscope::kernels

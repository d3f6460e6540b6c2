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

}  // namespace vitscope::kernels

// Runtime CPU feature detection with cpuid and xgetbv.
#include "vitscope/kernels/cpu_features.hpp"

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace vitscope::kernels {
namespace {

#if defined(__x86_64__) || defined(__i386__)

struct CpuidRegisters {
  std::uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// cpuid(leaf, subleaf); all zero when the leaf is beyond the CPU's highest one.
CpuidRegisters cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegisters r;
  if (static_cast<unsigned>(__get_cpuid_max(leaf & 0x80000000u, nullptr)) < leaf) return r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

bool bit(std::uint32_t value, int index) { return (value >> index) & 1u; }

// XCR0: the register state the OS saves on a context switch. Read with the raw opcode of xgetbv so
// that this file needs no -mxsave.
std::uint64_t read_xcr0() {
  std::uint32_t lo = 0, hi = 0;
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (std::uint64_t{hi} << 32) | lo;
}

#endif

}  // namespace

CpuFeatures detect_cpu_features() {
  CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
  const CpuidRegisters leaf1 = cpuid(1, 0);
  const bool osxsave = bit(leaf1.ecx, 27);
  if (!osxsave) return f;  // no xgetbv: the OS saves no AVX state
  const std::uint64_t xcr0 = read_xcr0();
  // Bits 1, 2: SSE and AVX (ymm) state; 5, 6, 7: AVX-512 opmask, zmm0-15 upper halves, zmm16-31.
  const bool os_avx = (xcr0 & 0x6) == 0x6;
  const bool os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;

  const CpuidRegisters leaf7 = cpuid(7, 0);
  const CpuidRegisters leaf7_1 = leaf7.eax >= 1 ? cpuid(7, 1) : CpuidRegisters{};
  const bool avx = bit(leaf1.ecx, 28) && os_avx;
  f.fma = avx && bit(leaf1.ecx, 12);
  f.avx2 = avx && bit(leaf7.ebx, 5);
  f.avx512f = os_avx512 && bit(leaf7.ebx, 16);
  f.avx512dq = f.avx512f && bit(leaf7.ebx, 17);
  f.avx512bw = f.avx512f && bit(leaf7.ebx, 30);
  f.avx512vl = f.avx512f && bit(leaf7.ebx, 31);
  f.avx512bf16 = f.avx512f && bit(leaf7_1.eax, 5);
  f.avx512vnni = f.avx512f && bit(leaf7.ecx, 11);
#endif
  return f;
}

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect_cpu_features();
  return features;
}

bool supports_avx512_bf16_kernels(const CpuFeatures& f) {
  return f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx512bf16 && f.fma;
}

bool supports_avx512_vnni_kernels(const CpuFeatures& f) {
  return f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni;
}

bool kernels_disabled_by_env_value(const char* value) {
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

}  // namespace vitscope::kernels

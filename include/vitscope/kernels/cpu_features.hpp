#pragma once
// What the CPU this process runs on can execute, as far as the kernels care: the instruction-set
// extensions of the ISA-specific kernel files (src/kernels/*_avx512bf16.cpp and the like), each
// counted only when the operating system also saves the registers it uses.
namespace vitscope::kernels {

struct CpuFeatures {
  bool fma = false;
  bool avx2 = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512bf16 = false;  // vdpbf16ps, vcvtne2ps2bf16
  bool avx512vnni = false;  // vpdpbusd
};

// Asks the CPU (cpuid, and xgetbv for the register state the OS saves). All false off x86.
CpuFeatures detect_cpu_features();

// detect_cpu_features() of the first call, kept.
const CpuFeatures& cpu_features();

// True when every extension the AVX512-BF16 kernels are compiled for is present.
bool supports_avx512_bf16_kernels(const CpuFeatures& features);

// True when every extension the AVX512-VNNI kernels are compiled for is present.
bool supports_avx512_vnni_kernels(const CpuFeatures& features);

// Whether a value of an environment variable that switches ISA-specific kernels off
// (VITSCOPE_DISABLE_BF16, VITSCOPE_DISABLE_VNNI) turns them off: any value but unset (null), empty
// or "0".
bool kernels_disabled_by_env_value(const char* value);

}  // namespace vitscope::kernels

// CPU feature detection against the kernel's view (/proc/cpuinfo) and GCC's
// (__builtin_cpu_supports).
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "vitscope/kernels/cpu_features.hpp"

namespace vitscope::kernels {
namespace {

// The flags of the first processor in /proc/cpuinfo; empty when there is no such file.
std::set<std::string> proc_cpuinfo_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    std::set<std::string> flags;
    for (std::string w; words >> w;) flags.insert(w);
    return flags;
  }
  return {};
}

TEST_CASE("detect_cpu_features agrees with /proc/cpuinfo", "[cpu]") {
  const std::set<std::string> flags = proc_cpuinfo_flags();
  if (flags.empty()) {
    WARN("no /proc/cpuinfo flags: nothing to compare with");
    return;
  }
  const CpuFeatures f = detect_cpu_features();
  CHECK(f.fma == flags.count("fma"));
  CHECK(f.avx2 == flags.count("avx2"));
  CHECK(f.avx512f == flags.count("avx512f"));
  CHECK(f.avx512bw == flags.count("avx512bw"));
  CHECK(f.avx512dq == flags.count("avx512dq"));
  CHECK(f.avx512vl == flags.count("avx512vl"));
  CHECK(f.avx512bf16 == flags.count("avx512_bf16"));
}

#if defined(__x86_64__) || defined(__i386__)
TEST_CASE("detect_cpu_features agrees with __builtin_cpu_supports", "[cpu]") {
  const CpuFeatures f = detect_cpu_features();
  CHECK(f.fma == bool(__builtin_cpu_supports("fma")));
  CHECK(f.avx2 == bool(__builtin_cpu_supports("avx2")));
  CHECK(f.avx512f == bool(__builtin_cpu_supports("avx512f")));
  CHECK(f.avx512bw == bool(__builtin_cpu_supports("avx512bw")));
  CHECK(f.avx512dq == bool(__builtin_cpu_supports("avx512dq")));
  CHECK(f.avx512vl == bool(__builtin_cpu_supports("avx512vl")));
  CHECK(f.avx512bf16 == bool(__builtin_cpu_supports("avx512bf16")));
}
#endif

TEST_CASE("cpu_features() is the detection of the first call", "[cpu]") {
  const CpuFeatures a = cpu_features(), b = detect_cpu_features();
  CHECK(a.fma == b.fma);
  CHECK(a.avx2 == b.avx2);
  CHECK(a.avx512f == b.avx512f);
  CHECK(a.avx512bf16 == b.avx512bf16);
  CHECK(&cpu_features() == &cpu_features());
}

TEST_CASE("The AVX512-BF16 kernels need every extension they are compiled for", "[cpu]") {
  CpuFeatures all;
  all.fma = all.avx2 = all.avx512f = all.avx512bw = all.avx512dq = all.avx512vl =
      all.avx512bf16 = true;
  CHECK(supports_avx512_bf16_kernels(all));
  for (bool CpuFeatures::*flag : {&CpuFeatures::fma, &CpuFeatures::avx512f, &CpuFeatures::avx512bw,
                                  &CpuFeatures::avx512dq, &CpuFeatures::avx512vl,
                                  &CpuFeatures::avx512bf16}) {
    CpuFeatures missing = all;
    missing.*flag = false;
    CHECK_FALSE(supports_avx512_bf16_kernels(missing));
  }
  CHECK_FALSE(supports_avx512_bf16_kernels(CpuFeatures{}));
}

TEST_CASE("VITSCOPE_DISABLE_BF16 disables with any value but empty or 0", "[cpu]") {
  CHECK_FALSE(kernels_disabled_by_env_value(nullptr));
  CHECK_FALSE(kernels_disabled_by_env_value(""));
  CHECK_FALSE(kernels_disabled_by_env_value("0"));
  CHECK(kernels_disabled_by_env_value("1"));
  CHECK(kernels_disabled_by_env_value("yes"));
}

}  // namespace
}  // namespace vitscope::kernels

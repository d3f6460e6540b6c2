// Hidden timing cases (run with `test_kernels [.perf]`): GFLOP/s of linear() on ViT shapes at 1 and
// 2 threads next to the scalar reference, of linear_bf16() next to linear(), and of the attention
// GEMMs. Printed, not asserted.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include <catch2/catch.hpp>

#include "kernels/kernel_test_util.hpp"
#include "vitscope/kernels/gemm.hpp"
#include "vitscope/kernels/gemm_bf16.hpp"
#include "vitscope/kernels/gemm_int8.hpp"
#include "vitscope/kernels/peak_flops.hpp"
#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

using Clock = std::chrono::steady_clock;

// Best time of one call in seconds, over repeats filling about min_seconds.
template <class F>
double best_seconds(F&& call, double min_seconds = 0.5) {
  call();  // warm caches, thread-local scratch and the pool
  double best = 1e30, total = 0.0;
  for (int i = 0; total < min_seconds || i < 3; ++i) {
    const auto t0 = Clock::now();
    call();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::min(best, s);
    total += s;
  }
  return best;
}

TEST_CASE("linear GFLOP/s on ViT shapes", "[.perf]") {
  struct Shape {
    int m, n, k;
    const char* what;
  };
  const Shape shapes[] = {
      {197, 768, 768, "ViT-B attn proj"}, {197, 2304, 768, "ViT-B qkv"},
      {197, 3072, 768, "ViT-B fc1"},      {197, 768, 3072, "ViT-B fc2"},
      {197, 576, 192, "DeiT-Ti qkv"},     {197, 768, 192, "DeiT-Ti fc1"},
      {197, 192, 768, "DeiT-Ti fc2"},     {394, 768, 768, "batch 2 proj"},
  };
  std::printf("%-16s %5s %5s %5s | %8s | %9s %9s | %s\n", "shape", "M", "N", "K", "ref", "1 thread",
              "2 threads", "GFLOP/s (best of repeats)");
  for (const Shape& s : shapes) {
    const std::vector<float> a = test::random_vector(std::size_t(s.m) * s.k, 1);
    const std::vector<float> b = test::random_vector(std::size_t(s.n) * s.k, 2);
    const std::vector<float> bias = test::random_vector(s.n, 3);
    std::vector<float> out(std::size_t(s.m) * s.n);
    const PackedMatrix packed = PackedMatrix::pack(b.data(), s.n, s.k);
    LinearEpilogue epilogue;
    epilogue.bias = bias.data();
    const double flops = 2.0 * s.m * s.n * s.k;

    const double ref = best_seconds(
        [&] { linear_ref(a.data(), s.k, s.m, b.data(), s.n, s.k, out.data(), s.n, epilogue); },
        0.0);
    double fast[2];
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      fast[threads - 1] = best_seconds(
          [&] { linear(a.data(), s.k, s.m, packed, out.data(), s.n, epilogue, &pool); });
    }
    std::printf("%-16s %5d %5d %5d | %8.2f | %9.1f %9.1f |\n", s.what, s.m, s.n, s.k,
                flops / ref * 1e-9, flops / fast[0] * 1e-9, flops / fast[1] * 1e-9);
  }
}

TEST_CASE("linear_bf16 GFLOP/s next to linear on ViT shapes", "[.perf]") {
  // One image (197 tokens) and a batch of 8; widths of ViT-S/B (384, 768), their qkv (1152, 2304)
  // and MLP (1536, 3072) sizes, every pair as N × K.
  const int sizes[] = {384, 768, 1152, 1536, 2304, 3072};
  const Bf16Backend backend = resolve_bf16_backend(Bf16Backend::automatic);
  std::printf("bf16 backend: %s\n",
              backend == Bf16Backend::avx512_bf16 ? "avx512_bf16" : "fp32_emulation");
  std::printf("%5s %5s %5s | %9s %9s %6s | %9s %9s %6s | GFLOP/s (best of repeats)\n", "M", "N",
              "K", "fp32 1t", "bf16 1t", "ratio", "fp32 2t", "bf16 2t", "ratio");
  ThreadPool pools[2] = {ThreadPool(1), ThreadPool(2)};
  double log_ratio[2] = {0.0, 0.0};
  int count = 0;
  for (int m : {197, 1576}) {
    for (int n : sizes) {
      for (int k : sizes) {
        const std::vector<float> a = test::random_vector(std::size_t(m) * k, 1);
        const std::vector<float> b = test::random_vector(std::size_t(n) * k, 2);
        const std::vector<float> bias = test::random_vector(n, 3);
        std::vector<float> out(std::size_t(m) * n);
        const PackedMatrix packed = PackedMatrix::pack(b.data(), n, k);
        const PackedMatrixBf16 packed16 = PackedMatrixBf16::pack(b.data(), n, k, k, backend);
        LinearEpilogue epilogue;
        epilogue.bias = bias.data();
        const double gflop = 2.0 * m * n * k * 1e-9;
        double fp32[2], bf16[2];
        for (int t = 0; t < 2; ++t) {
          ThreadPool* pool = &pools[t];
          fp32[t] = gflop / best_seconds(
                                [&] {
                                  linear(a.data(), k, m, packed, out.data(), n, epilogue, pool);
                                },
                                0.2);
          bf16[t] = gflop / best_seconds(
                                [&] {
                                  linear_bf16(a.data(), k, m, packed16, out.data(), n, epilogue,
                                              pool);
                                },
                                0.2);
          log_ratio[t] += std::log(bf16[t] / fp32[t]);
        }
        ++count;
        std::printf("%5d %5d %5d | %9.1f %9.1f %6.2f | %9.1f %9.1f %6.2f |\n", m, n, k, fp32[0],
                    bf16[0], bf16[0] / fp32[0], fp32[1], bf16[1], bf16[1] / fp32[1]);
        std::fflush(stdout);
      }
    }
  }
  std::printf("geometric mean of bf16 / fp32: %.2f (1 thread), %.2f (2 threads)\n",
              std::exp(log_ratio[0] / count), std::exp(log_ratio[1] / count));
}

TEST_CASE("linear GFLOP/s with a model's weights cold (DeiT-Small's 48 linear layers in turn)", "[.perf]") {
  // Hot: each layer's product repeated, its weights in cache. Cold: the 12 blocks' qkv, proj, fc1
  // and fc2 (84 MB, more than the L3) in model order, as a forward pass meets them.
  struct Shape {
    int n, k;
  };
  const int m = 197, width = 384;
  const Shape block[] = {{3 * width, width}, {width, width}, {4 * width, width}, {width, 4 * width}};
  std::vector<PackedMatrix> weights;
  std::vector<std::vector<float>> biases;
  double flops = 0;
  for (int layer = 0; layer < 12; ++layer) {
    for (const Shape& s : block) {
      const std::vector<float> b = test::random_vector(std::size_t(s.n) * s.k, 10 + layer);
      weights.push_back(PackedMatrix::pack(b.data(), s.n, s.k));
      biases.push_back(test::random_vector(s.n, 20 + layer));
      flops += 2.0 * m * s.n * s.k;
    }
  }
  const std::vector<float> a = test::random_vector(std::size_t(m) * 4 * width, 1);
  std::vector<float> out(std::size_t(m) * 4 * width);
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    auto layer = [&](std::size_t i) {
      LinearEpilogue epilogue;
      epilogue.bias = biases[i].data();
      linear(a.data(), block[i % 4].k, m, weights[i], out.data(), block[i % 4].n, epilogue, &pool);
    };
    double hot = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      const double s = best_seconds([&] { layer(i); }, 0.2);
      std::printf("  threads %d: %4d x %4d hot %.1f GFLOP/s\n", threads, block[i].n, block[i].k,
                  2.0 * m * block[i].n * block[i].k / s * 1e-9);
      hot += s * 12;
    }
    double cold_total = 0, cold_best = 1e30;
    int passes = 0;
    for (; cold_total < 2.0 || passes < 3; ++passes) {
      const auto t0 = Clock::now();
      for (std::size_t i = 0; i < weights.size(); ++i) layer(i);
      const double s = std::chrono::duration<double>(Clock::now() - t0).count();
      cold_total += s;
      cold_best = std::min(cold_best, s);
    }
    std::printf("threads %d: hot %.1f GFLOP/s (best), cold %.1f GFLOP/s (best) %.1f (mean of %d passes)\n",
                threads, flops / hot * 1e-9, flops / cold_best * 1e-9, flops * passes / cold_total * 1e-9, passes);
  }
}

TEST_CASE("linear_int8 GOP/s on ViT shapes, and its fraction of the int8 peak", "[.perf]") {
  // The int8 product alone (quantising A included), weights in cache, against the peak that bench
  // reports: clock × 64 multiply-adds per vpdpbusd × 2 × vpdpbusd retired per cycle.
  struct Shape {
    int m, n, k;
    const char* what;
  };
  const Shape shapes[] = {
      {197, 576, 192, "DeiT-Ti qkv"},    {197, 768, 192, "DeiT-Ti fc1"},  {197, 192, 768, "DeiT-Ti fc2"},
      {197, 1152, 384, "DeiT-S qkv"},    {197, 1536, 384, "DeiT-S fc1"},  {197, 384, 1536, "DeiT-S fc2"},
      {197, 2304, 768, "ViT-B qkv"},     {197, 3072, 768, "ViT-B fc1"},   {197, 768, 3072, "ViT-B fc2"},
      {1576, 768, 3072, "ViT-B fc2 b8"},
  };
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    const PeakEstimate peak = estimate_peak(&pool);
    if (peak.int8_theoretical_gops <= 0) {
      std::printf("no AVX512-VNNI: no int8 peak\n");
      return;
    }
    std::printf("threads %d, int8 peak %.0f GOP/s (%s)\n", threads, peak.int8_theoretical_gops,
                peak.int8_how.c_str());
    for (const Shape& s : shapes) {
      const std::vector<float> a = test::random_vector(std::size_t(s.m) * s.k, 1);
      const std::vector<float> b = test::random_vector(std::size_t(s.n) * s.k, 2);
      std::vector<float> out(std::size_t(s.m) * s.n);
      const PackedMatrixInt8 packed = PackedMatrixInt8::pack(b.data(), s.n, s.k, s.k, Int8Backend::automatic);
      const double seconds = best_seconds([&] { linear_int8(a.data(), s.k, s.m, packed, out.data(), s.n, {}, &pool); });
      const double gops = 2.0 * s.m * s.n * s.k / seconds * 1e-9;
      std::printf("  %-14s %5d %5d %5d  %7.1f GOP/s = %3.0f%% of the int8 peak\n", s.what, s.m, s.n, s.k, gops,
                  100 * gops / peak.int8_theoretical_gops);
    }
  }
}

TEST_CASE("attention GEMM GFLOP/s (one head of 64, 197 tokens)", "[.perf]") {
  const int t = 197, d = 64, ld = 3 * 768;
  const std::vector<float> qkv = test::random_vector(std::size_t(t) * ld, 4);
  std::vector<float> scores(std::size_t(t) * t), ctx(std::size_t(t) * 768);
  const double flops = 2.0 * t * t * d;
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    const double qk = best_seconds([&] {
      gemm_abt(t, t, d, 0.125f, qkv.data(), ld, qkv.data() + 768, ld, scores.data(), t, &pool);
    });
    const double pv = best_seconds([&] {
      gemm_ab(t, d, t, scores.data(), t, qkv.data() + 2 * 768, ld, ctx.data(), 768, &pool);
    });
    std::printf("threads %d: q·kᵀ %.1f GFLOP/s (%.1f µs), p·v %.1f GFLOP/s (%.1f µs)\n", threads,
                flops / qk * 1e-9, qk * 1e6, flops / pv * 1e-9, pv * 1e6);
    const double qk16 = best_seconds([&] {
      gemm_abt_bf16(t, t, d, 0.125f, qkv.data(), ld, qkv.data() + 768, ld, scores.data(), t,
                    &pool);
    });
    const double pv16 = best_seconds([&] {
      gemm_ab_bf16(t, d, t, scores.data(), t, qkv.data() + 2 * 768, ld, ctx.data(), 768, &pool);
    });
    std::printf("     bf16: q·kᵀ %.1f GFLOP/s (%.1f µs), p·v %.1f GFLOP/s (%.1f µs)\n",
                flops / qk16 * 1e-9, qk16 * 1e6, flops / pv16 * 1e-9, pv16 * 1e6);
  }
}

}  // namespace
}  // namespace vitscope::kernels

// Depthwise 3×3 convolution on NHWC activations, vectorised over channels: one SIMD batch holds
// kLanes consecutive channels of a pixel, so the nine weights of a channel batch stay in registers
// while the kernel walks an output row.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/conv.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

// Output columns [x_begin, x_end) whose three taps all fall inside the input row.
struct Interior {
  int x_begin, x_end;
};

Interior interior_columns(const ConvGeometry& g, int out_w) {
  // ox·s − left ≥ 0 and ox·s − left + 2 ≤ W − 1
  int begin = (g.pad.left + g.stride - 1) / g.stride;
  int end = g.width - 3 + g.pad.left >= 0 ? (g.width - 3 + g.pad.left) / g.stride + 1 : 0;
  begin = std::min(begin, out_w);
  end = std::clamp(end, begin, out_w);
  return {begin, end};
}

// One output row of channels [c0, c0 + kLanes): rows[ky] points at input row oy·s + ky − top
// (null when that row is padding), already offset to channel c0.
void depthwise_row_batch(const ConvGeometry& g, const float* const rows[3], const float* weight,
                         const float* bias, Clamp clamp, int out_w, Interior interior, int c0,
                         float* out_row) {
  const int C = g.channels, s = g.stride;
  Batch w[3][3];
  for (int ky = 0; ky < 3; ++ky)
    for (int kx = 0; kx < 3; ++kx) w[ky][kx] = xsimd::load_unaligned(weight + (ky * 3 + kx) * C + c0);
  const Batch b = bias ? xsimd::load_unaligned(bias + c0) : Batch(0.0f);
  const Batch lo(clamp.lo), hi(clamp.hi);
  auto finish = [&](const Batch& acc, int ox) {
    xsimd::min(xsimd::max(acc, lo), hi).store_unaligned(out_row + static_cast<std::size_t>(ox) * C + c0);
  };
  // Columns near the borders: every tap checked.
  auto edge = [&](int ox) {
    Batch acc = b;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ox * s + kx - g.pad.left;
        if (ix < 0 || ix >= g.width) continue;
        acc = xsimd::fma(w[ky][kx], xsimd::load_unaligned(rows[ky] + static_cast<std::size_t>(ix) * C), acc);
      }
    }
    finish(acc, ox);
  };
  for (int ox = 0; ox < interior.x_begin; ++ox) edge(ox);
  // Interior: four output pixels at a time, four independent FMA chains.
  const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(s) * C;
  int ox = interior.x_begin;
  for (; ox + 4 <= interior.x_end; ox += 4) {
    Batch acc0 = b, acc1 = b, acc2 = b, acc3 = b;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
      const float* p = rows[ky] + static_cast<std::ptrdiff_t>(ox * s - g.pad.left) * C;
      for (int kx = 0; kx < 3; ++kx) {
        const float* q = p + kx * C;
        acc0 = xsimd::fma(w[ky][kx], xsimd::load_unaligned(q), acc0);
        acc1 = xsimd::fma(w[ky][kx], xsimd::load_unaligned(q + step), acc1);
        acc2 = xsimd::fma(w[ky][kx], xsimd::load_unaligned(q + 2 * step), acc2);
        acc3 = xsimd::fma(w[ky][kx], xsimd::load_unaligned(q + 3 * step), acc3);
      }
    }
    finish(acc0, ox);
    finish(acc1, ox + 1);
    finish(acc2, ox + 2);
    finish(acc3, ox + 3);
  }
  for (; ox < interior.x_end; ++ox) {
    Batch acc = b;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
      const float* p = rows[ky] + static_cast<std::ptrdiff_t>(ox * s - g.pad.left) * C;
      for (int kx = 0; kx < 3; ++kx) acc = xsimd::fma(w[ky][kx], xsimd::load_unaligned(p + kx * C), acc);
    }
    finish(acc, ox);
  }
  for (ox = interior.x_end; ox < out_w; ++ox) edge(ox);
}

// One output row of a single channel c (channel counts below one SIMD batch).
void depthwise_row_scalar(const ConvGeometry& g, const float* const rows[3], const float* weight,
                          const float* bias, Clamp clamp, int out_w, int c, float* out_row) {
  const int C = g.channels;
  for (int ox = 0; ox < out_w; ++ox) {
    float acc = bias ? bias[c] : 0.0f;
    for (int ky = 0; ky < 3; ++ky) {
      if (!rows[ky]) continue;
      for (int kx = 0; kx < 3; ++kx) {
        const int ix = ox * g.stride + kx - g.pad.left;
        if (ix >= 0 && ix < g.width)
          acc = std::fma(weight[(ky * 3 + kx) * C + c], rows[ky][static_cast<std::size_t>(ix) * C + c], acc);
      }
    }
    out_row[static_cast<std::size_t>(ox) * C + c] = std::min(std::max(acc, clamp.lo), clamp.hi);
  }
}

void check_depthwise(const ConvGeometry& g, const char* name) {
  check_geometry(g, name);
  if (g.kernel != 3) throw std::invalid_argument(std::string(name) + ": kernel must be 3");
}

}  // namespace

void depthwise_conv3x3(const ConvGeometry& g, const float* in, const float* weight,
                       const float* bias, Clamp clamp, float* out, ThreadPool* pool) {
  check_depthwise(g, "depthwise_conv3x3");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  const Interior interior = interior_columns(g, OW);
  const std::size_t in_row = static_cast<std::size_t>(g.width) * C;
  const std::size_t out_row = static_cast<std::size_t>(OW) * C;
  // Rows of all images, split over the threads; a row costs ~9·OW·C FMAs.
  const std::size_t rows_total = static_cast<std::size_t>(g.batch) * OH;
  const std::size_t min_rows = std::max<std::size_t>(1, 16384 / std::max<std::size_t>(out_row, 1));
  parallel_ranges(pool, rows_total, min_rows, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      const int b = static_cast<int>(r / OH), oy = static_cast<int>(r % OH);
      const float* image = in + static_cast<std::size_t>(b) * g.height * in_row;
      const float* rows[3];
      for (int ky = 0; ky < 3; ++ky) {
        const int iy = oy * g.stride + ky - g.pad.top;
        rows[ky] = (iy >= 0 && iy < g.height) ? image + iy * in_row : nullptr;
      }
      float* dst = out + r * out_row;
      if (C < kLanes) {
        for (int c = 0; c < C; ++c) depthwise_row_scalar(g, rows, weight, bias, clamp, OW, c, dst);
        continue;
      }
      // Whole batches of channels; a ragged tail is covered by one batch overlapping the previous
      // one (the overlapped channels are computed twice, identically).
      for (int c0 = 0; c0 < C; c0 += kLanes) {
        const int c = std::min(c0, C - kLanes);
        const float* shifted[3];
        for (int ky = 0; ky < 3; ++ky) shifted[ky] = rows[ky] ? rows[ky] + c : nullptr;
        depthwise_row_batch(g, shifted, weight, bias, clamp, OW, interior, c, dst);
      }
    }
  });
}

void depthwise_conv3x3_input_grad(const ConvGeometry& g, const float* grad_out,
                                  const float* weight, float* grad_in) {
  check_depthwise(g, "depthwise_conv3x3_input_grad");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  const int body = C - C % kLanes;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox) {
        const float* go = grad_out + ((static_cast<std::size_t>(b) * OH + oy) * OW + ox) * C;
        for (int ky = 0; ky < 3; ++ky) {
          const int iy = oy * g.stride + ky - g.pad.top;
          if (iy < 0 || iy >= g.height) continue;
          for (int kx = 0; kx < 3; ++kx) {
            const int ix = ox * g.stride + kx - g.pad.left;
            if (ix < 0 || ix >= g.width) continue;
            float* gi = grad_in + ((static_cast<std::size_t>(b) * g.height + iy) * g.width + ix) * C;
            const float* w = weight + (ky * 3 + kx) * C;
            for (int c = 0; c < body; c += kLanes)
              xsimd::fma(xsimd::load_unaligned(w + c), xsimd::load_unaligned(go + c),
                         xsimd::load_unaligned(gi + c))
                  .store_unaligned(gi + c);
            for (int c = body; c < C; ++c) gi[c] = std::fma(w[c], go[c], gi[c]);
          }
        }
      }
}

}  // namespace vitscope::kernels

// Max pooling (forward and its gradient routing) and global average pooling on NHWC activations.
#include <algorithm>
#include <cmath>
#include <cstddef>

#include "kernels/parallel.hpp"
#include "kernels/simd.hpp"
#include "vitscope/kernels/conv.hpp"

namespace vitscope::kernels {
namespace {

using simd::Batch;
using simd::kLanes;

// The window of output (oy, ox) clipped to the input: rows [y0, y1), columns [x0, x1).
struct Window {
  int y0, y1, x0, x1;
};

Window window(const ConvGeometry& g, int oy, int ox) {
  const int iy = oy * g.stride - g.pad.top, ix = ox * g.stride - g.pad.left;
  return {std::max(iy, 0), std::min(iy + g.kernel, g.height), std::max(ix, 0),
          std::min(ix + g.kernel, g.width)};
}

}  // namespace

void max_pool(const ConvGeometry& g, const float* in, float* out, ThreadPool* pool) {
  check_geometry(g, "max_pool");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  const std::size_t rows_total = static_cast<std::size_t>(g.batch) * OH;
  parallel_ranges(pool, rows_total, 4, [&](std::size_t begin, std::size_t end) {
    for (std::size_t r = begin; r < end; ++r) {
      const int b = static_cast<int>(r / OH), oy = static_cast<int>(r % OH);
      const float* image = in + static_cast<std::size_t>(b) * g.height * g.width * C;
      for (int ox = 0; ox < OW; ++ox) {
        const Window w = window(g, oy, ox);
        float* dst = out + (r * OW + ox) * C;
        auto pixel = [&](int y, int x) { return image + (static_cast<std::size_t>(y) * g.width + x) * C; };
        if (C < kLanes) {
          for (int c = 0; c < C; ++c) {
            float best = -INFINITY;
            for (int y = w.y0; y < w.y1; ++y)
              for (int x = w.x0; x < w.x1; ++x) best = std::max(best, pixel(y, x)[c]);
            dst[c] = best;
          }
          continue;
        }
        // A ragged channel tail is covered by a batch overlapping the previous one.
        for (int c0 = 0; c0 < C; c0 += kLanes) {
          const int c = std::min(c0, C - kLanes);
          Batch best(-INFINITY);
          for (int y = w.y0; y < w.y1; ++y)
            for (int x = w.x0; x < w.x1; ++x)
              best = xsimd::max(best, xsimd::load_unaligned(pixel(y, x) + c));
          best.store_unaligned(dst + c);
        }
      }
    }
  });
}

void max_pool_input_grad(const ConvGeometry& g, const float* in, const float* grad_out,
                         float* grad_in) {
  check_geometry(g, "max_pool_input_grad");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  for (int b = 0; b < g.batch; ++b) {
    const std::size_t image = static_cast<std::size_t>(b) * g.height * g.width;
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox) {
        const Window w = window(g, oy, ox);
        const float* go = grad_out + ((static_cast<std::size_t>(b) * OH + oy) * OW + ox) * C;
        for (int c = 0; c < C; ++c) {
          if (go[c] == 0.0f) continue;
          std::size_t arg = 0;
          float best = -INFINITY;
          bool found = false;
          for (int y = w.y0; y < w.y1; ++y)
            for (int x = w.x0; x < w.x1; ++x) {
              const std::size_t at = (image + static_cast<std::size_t>(y) * g.width + x) * C + c;
              if (!found || in[at] > best) {  // strictly greater: the first maximum wins
                best = in[at];
                arg = at;
                found = true;
              }
            }
          if (found) grad_in[arg] += go[c];
        }
      }
  }
}

void global_average_pool(const float* in, int batch, int pixels, int channels, float* out) {
  const int body = channels - channels % kLanes;
  for (int b = 0; b < batch; ++b) {
    const float* x = in + static_cast<std::size_t>(b) * pixels * channels;
    float* o = out + static_cast<std::size_t>(b) * channels;
    std::fill(o, o + channels, 0.0f);
    for (int p = 0; p < pixels; ++p) {
      const float* px = x + static_cast<std::size_t>(p) * channels;
      for (int c = 0; c < body; c += kLanes)
        (xsimd::load_unaligned(o + c) + xsimd::load_unaligned(px + c)).store_unaligned(o + c);
      for (int c = body; c < channels; ++c) o[c] += px[c];
    }
    const float n = static_cast<float>(pixels);
    for (int c = 0; c < channels; ++c) o[c] /= n;
  }
}

}  // namespace vitscope::kernels

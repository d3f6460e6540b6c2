// Scalar references of the convolution kernels: direct loops over the definitions, sums in double.
// They are what the tests hold the fast kernels to, never what the models call.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "vitscope/kernels/conv.hpp"

#include "kernels/reference.hpp"

namespace vitscope::kernels {
namespace {

float apply(Clamp c, double v) { return std::min(std::max(static_cast<float>(v), c.lo), c.hi); }

// in[b, y, x, c] of an NHWC tensor with the given sizes.
std::size_t at(int b, int y, int x, int c, int h, int w, int channels) {
  return ((static_cast<std::size_t>(b) * h + y) * w + x) * channels + c;
}

}  // namespace

void check_geometry(const ConvGeometry& g, const char* kernel_name) {
  const bool ok = g.batch >= 0 && g.height > 0 && g.width > 0 && g.channels > 0 && g.kernel > 0 &&
                  g.stride > 0 && g.pad.top >= 0 && g.pad.left >= 0 && g.pad.bottom >= 0 &&
                  g.pad.right >= 0 && g.height + g.pad.top + g.pad.bottom >= g.kernel &&
                  g.width + g.pad.left + g.pad.right >= g.kernel;
  if (!ok)
    throw std::invalid_argument(std::string(kernel_name) + ": bad geometry (input " +
                                std::to_string(g.height) + "x" + std::to_string(g.width) + "x" +
                                std::to_string(g.channels) + ", kernel " +
                                std::to_string(g.kernel) + ", stride " + std::to_string(g.stride) +
                                ")");
}

void depthwise_conv3x3_ref(const ConvGeometry& g, const float* in, const float* weight,
                           const float* bias, Clamp clamp, float* out) {
  check_geometry(g, "depthwise_conv3x3_ref");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int c = 0; c < C; ++c) {
          double sum = bias ? bias[c] : 0.0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int iy = oy * g.stride + ky - g.pad.top, ix = ox * g.stride + kx - g.pad.left;
              if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;
              sum += double(weight[(ky * 3 + kx) * C + c]) *
                     in[at(b, iy, ix, c, g.height, g.width, C)];
            }
          out[at(b, oy, ox, c, OH, OW, C)] = apply(clamp, sum);
        }
}

void depthwise_conv3x3_input_grad_ref(const ConvGeometry& g, const float* grad_out,
                                      const float* weight, float* grad_in) {
  check_geometry(g, "depthwise_conv3x3_input_grad_ref");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  // Gathered per input element (the definition of the transpose), not scattered.
  for (int b = 0; b < g.batch; ++b)
    for (int iy = 0; iy < g.height; ++iy)
      for (int ix = 0; ix < g.width; ++ix)
        for (int c = 0; c < C; ++c) {
          double sum = 0.0;
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              const int ny = iy + g.pad.top - ky, nx = ix + g.pad.left - kx;
              if (ny < 0 || nx < 0 || ny % g.stride || nx % g.stride) continue;
              const int oy = ny / g.stride, ox = nx / g.stride;
              if (oy >= OH || ox >= OW) continue;
              sum += double(weight[(ky * 3 + kx) * C + c]) * grad_out[at(b, oy, ox, c, OH, OW, C)];
            }
          grad_in[at(b, iy, ix, c, g.height, g.width, C)] += static_cast<float>(sum);
        }
}

void conv2d_ref(const ConvGeometry& g, const float* in, const float* weight, int out_channels,
                const float* bias, Clamp clamp, float* out) {
  check_geometry(g, "conv2d_ref");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels, k = g.kernel;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int n = 0; n < out_channels; ++n) {
          double sum = bias ? bias[n] : 0.0;
          const float* w = weight + static_cast<std::size_t>(n) * k * k * C;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * g.stride + ky - g.pad.top, ix = ox * g.stride + kx - g.pad.left;
              if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;
              for (int c = 0; c < C; ++c)
                sum += double(w[(ky * k + kx) * C + c]) * in[at(b, iy, ix, c, g.height, g.width, C)];
            }
          out[at(b, oy, ox, n, OH, OW, out_channels)] = apply(clamp, sum);
        }
}

void conv2d_input_grad_ref(const ConvGeometry& g, const float* grad_out, const float* weight,
                           int out_channels, float* grad_in) {
  check_geometry(g, "conv2d_input_grad_ref");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels, k = g.kernel;
  for (int b = 0; b < g.batch; ++b)
    for (int iy = 0; iy < g.height; ++iy)
      for (int ix = 0; ix < g.width; ++ix)
        for (int c = 0; c < C; ++c) {
          double sum = 0.0;
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int ny = iy + g.pad.top - ky, nx = ix + g.pad.left - kx;
              if (ny < 0 || nx < 0 || ny % g.stride || nx % g.stride) continue;
              const int oy = ny / g.stride, ox = nx / g.stride;
              if (oy >= OH || ox >= OW) continue;
              for (int n = 0; n < out_channels; ++n)
                sum += double(weight[(static_cast<std::size_t>(n) * k * k + ky * k + kx) * C + c]) *
                       grad_out[at(b, oy, ox, n, OH, OW, out_channels)];
            }
          grad_in[at(b, iy, ix, c, g.height, g.width, C)] += static_cast<float>(sum);
        }
}

void max_pool_ref(const ConvGeometry& g, const float* in, float* out) {
  check_geometry(g, "max_pool_ref");
  const int OH = g.out_height(), OW = g.out_width(), C = g.channels;
  for (int b = 0; b < g.batch; ++b)
    for (int oy = 0; oy < OH; ++oy)
      for (int ox = 0; ox < OW; ++ox)
        for (int c = 0; c < C; ++c) {
          float best = -INFINITY;
          for (int ky = 0; ky < g.kernel; ++ky)
            for (int kx = 0; kx < g.kernel; ++kx) {
              const int iy = oy * g.stride + ky - g.pad.top, ix = ox * g.stride + kx - g.pad.left;
              if (iy < 0 || iy >= g.height || ix < 0 || ix >= g.width) continue;
              best = std::max(best, in[at(b, iy, ix, c, g.height, g.width, C)]);
            }
          out[at(b, oy, ox, c, OH, OW, C)] = best;
        }
}

}  // namespace vitscope::kernels

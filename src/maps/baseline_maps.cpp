// Maps that know nothing of the image (random, centred Gaussian), and any map brought to the
// image's patch grid: what the perturbation tests rank patches by.
#include <cmath>
#include <random>

#include "vitscope/core/error.hpp"
#include "vitscope/maps/explanations.hpp"

namespace vitscope {

xt::xtensor<float, 2> random_map(int h, int w, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  xt::xtensor<float, 2> map = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(h), static_cast<std::size_t>(w)});
  // The top 53 bits as a fraction: the same values on every platform (a std:: distribution's are not).
  for (float& v : map) v = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53);
  return map;
}

xt::xtensor<float, 2> gaussian_map(int h, int w) {
  xt::xtensor<float, 2> map = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(h), static_cast<std::size_t>(w)});
  const double cy = (h - 1) / 2.0, cx = (w - 1) / 2.0, sy = h / 4.0, sx = w / 4.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      map(y, x) = static_cast<float>(std::exp(-0.5 * ((y - cy) * (y - cy) / (sy * sy) + (x - cx) * (x - cx) / (sx * sx))));
  return map;
}

xt::xtensor<float, 2> patch_relevance(const xt::xtensor<float, 2>& map, int height, int width, int patch_size) {
  if (height % patch_size != 0 || width % patch_size != 0)
    throw ConfigError("patch relevance: a " + std::to_string(height) + "x" + std::to_string(width) +
                      " image is not whole patches of " + std::to_string(patch_size));
  const int gh = height / patch_size, gw = width / patch_size;
  const int mh = static_cast<int>(map.shape(0)), mw = static_cast<int>(map.shape(1));
  if (mh == gh && mw == gw) return map;
  // Bilinear with half-pixel centres, edges clamped, then the mean over each patch.
  auto source = [](int i, int in, int out, int& i0, int& i1, double& f) {
    double s = (i + 0.5) * in / out - 0.5;
    s = std::max(0.0, std::min(s, in - 1.0));
    i0 = static_cast<int>(std::floor(s));
    i1 = std::min(i0 + 1, in - 1);
    f = s - i0;
  };
  xt::xtensor<float, 2> relevance = xt::zeros<float>({static_cast<std::size_t>(gh), static_cast<std::size_t>(gw)});
  for (int y = 0; y < height; ++y) {
    int y0, y1;
    double fy;
    source(y, mh, height, y0, y1, fy);
    for (int x = 0; x < width; ++x) {
      int x0, x1;
      double fx;
      source(x, mw, width, x0, x1, fx);
      const double v = (1 - fy) * ((1 - fx) * map(y0, x0) + fx * map(y0, x1)) + fy * ((1 - fx) * map(y1, x0) + fx * map(y1, x1));
      relevance(y / patch_size, x / patch_size) += static_cast<float>(v);
    }
  }
  relevance /= static_cast<float>(patch_size * patch_size);
  return relevance;
}

}  // namespace vitscope

#include <algorithm>

#include <opencv2/imgproc.hpp>

#include "vitscope/render/render.hpp"

namespace vitscope::render {

cv::Mat to_bgr(const RgbImage& image) {
  const int h = static_cast<int>(image.shape(0)), w = static_cast<int>(image.shape(1));
  cv::Mat rgb(h, w, CV_8UC3, const_cast<std::uint8_t*>(image.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

cv::Mat heat_image(const xt::xtensor<float, 2>& heat, cv::Size size) {
  const int h = static_cast<int>(heat.shape(0)), w = static_cast<int>(heat.shape(1));
  cv::Mat values(h, w, CV_32F);
  std::copy(heat.begin(), heat.end(), values.ptr<float>());
  double lo = 0, hi = 0;
  cv::minMaxLoc(values, &lo, &hi);
  values = hi > lo ? (values - lo) / (hi - lo) : cv::Mat::zeros(h, w, CV_32F);
  cv::Mat resized;
  cv::resize(values, resized, size, 0, 0, cv::INTER_CUBIC);
  cv::Mat bytes;
  resized.convertTo(bytes, CV_8U, 255.0);  // saturating: bicubic overshoot is clipped
  cv::Mat coloured;
  cv::applyColorMap(bytes, coloured, cv::COLORMAP_TURBO);
  return coloured;
}

cv::Mat overlay(const cv::Mat& photo, const xt::xtensor<float, 2>& heat, double alpha) {
  cv::Mat out;
  cv::addWeighted(photo, 1.0 - alpha, heat_image(heat, photo.size()), alpha, 0.0, out);
  return out;
}

}  // namespace vitscope::render

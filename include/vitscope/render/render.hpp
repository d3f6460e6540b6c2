#pragma once
// Pictures for people: heat-map overlays, captioned panels and line/dot plots, drawn with OpenCV.
// Images are 8-bit BGR cv::Mat (OpenCV's order); write_png writes them.
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <xtensor/xtensor.hpp>

#include "vitscope/io/image.hpp"

namespace vitscope::render {

cv::Mat to_bgr(const RgbImage& image);

// heat[h, w] scaled to [0, 1] by its own min and max, resized (bicubic) to size, colour-mapped
// (turbo: dark blue = low, dark red = high).
cv::Mat heat_image(const xt::xtensor<float, 2>& heat, cv::Size size);

// The photo with the heat map blended over it (alpha = weight of the heat map).
cv::Mat overlay(const cv::Mat& photo, const xt::xtensor<float, 2>& heat, double alpha = 0.5);

// A tile with a white caption strip above it, one text line per entry.
cv::Mat captioned(const cv::Mat& tile, const std::vector<std::string>& lines);

// Tiles (any sizes) laid out left to right in rows of `columns`, on white, `gap` pixels apart.
cv::Mat grid(const std::vector<cv::Mat>& tiles, int columns, int gap = 8);

struct PlotSeries {
  enum class Style { Line, Dots, LineDots };
  std::string label;
  std::vector<double> x, y;
  cv::Scalar color;  // BGR
  Style style = Style::LineDots;
  std::vector<double> low, high;  // optional: an interval around each y, drawn as an error bar
};

struct PlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  cv::Size size{960, 640};
};

// A 2-D plot with axes, "nice" ticks and grid lines, and a legend; the axes span every series.
cv::Mat plot(const std::vector<PlotSeries>& series, const PlotOptions& options);

// Writes a PNG; throws ConfigError "<path>: cannot write PNG" on failure.
void write_png(const std::string& path, const cv::Mat& image);

// Tick positions covering [lo, hi] at a 1-2-5 step, about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace vitscope::render

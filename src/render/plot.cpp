// A small line/dot plotter: axes with 1-2-5 ticks, grid lines, a legend, drawn with OpenCV.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include <opencv2/imgproc.hpp>

#include "vitscope/render/render.hpp"

namespace vitscope::render {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
const cv::Scalar kInk(30, 30, 30);
const cv::Scalar kGrid(225, 225, 225);

std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
  return buf;
}

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale, int align = 0) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(s, kFont, scale, 1, &baseline);
  if (align == 1) at.x -= size.width / 2;   // centred
  if (align == 2) at.x -= size.width;       // right-aligned
  cv::putText(img, s, at, kFont, scale, kInk, 1, cv::LINE_AA);
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::floor(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  if (ticks.back() < hi) ticks.push_back(ticks.back() + step);
  return ticks;
}

cv::Mat plot(const std::vector<PlotSeries>& series, const PlotOptions& options) {
  cv::Mat img(options.size, CV_8UC3, cv::Scalar(255, 255, 255));
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = 0, y_hi = -x_lo;
  for (const PlotSeries& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      x_lo = std::min(x_lo, s.x[i]);
      x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]);
      y_hi = std::max(y_hi, s.y[i]);
      if (i < s.low.size() && std::isfinite(s.low[i])) y_lo = std::min(y_lo, s.low[i]);
      if (i < s.high.size() && std::isfinite(s.high[i])) y_hi = std::max(y_hi, s.high[i]);
    }
  if (!std::isfinite(x_lo)) x_lo = 0, x_hi = 1, y_hi = 1;
  const std::vector<double> xt = nice_ticks(x_lo, x_hi), yt = nice_ticks(y_lo, y_hi);
  x_lo = xt.front(), x_hi = xt.back(), y_lo = yt.front(), y_hi = yt.back();

  const int left = 80, right = 20, top = 50, bottom = 60;
  const cv::Rect area(left, top, options.size.width - left - right, options.size.height - top - bottom);
  auto px = [&](double x) { return area.x + static_cast<int>(std::lround((x - x_lo) / (x_hi - x_lo) * area.width)); };
  auto py = [&](double y) { return area.y + area.height - static_cast<int>(std::lround((y - y_lo) / (y_hi - y_lo) * area.height)); };

  for (double t : xt) {
    cv::line(img, {px(t), area.y}, {px(t), area.y + area.height}, kGrid, 1);
    text(img, tick_label(t), {px(t), area.y + area.height + 18}, 0.45, 1);
  }
  for (double t : yt) {
    cv::line(img, {area.x, py(t)}, {area.x + area.width, py(t)}, kGrid, 1);
    text(img, tick_label(t), {area.x - 6, py(t) + 5}, 0.45, 2);
  }
  cv::rectangle(img, area, kInk, 1);
  text(img, options.title, {options.size.width / 2, 28}, 0.6, 1);
  text(img, options.x_label, {area.x + area.width / 2, options.size.height - 18}, 0.5, 1);
  // The y label runs along the axis: draw it horizontally into a strip, then rotate the strip.
  {
    int baseline = 0;
    const cv::Size size = cv::getTextSize(options.y_label, kFont, 0.5, 1, &baseline);
    cv::Mat strip(size.height + 8, size.width + 8, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(strip, options.y_label, {4, size.height + 2}, kFont, 0.5, kInk, 1, cv::LINE_AA);
    cv::Mat rotated;
    cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
    const int y0 = std::max(0, area.y + area.height / 2 - rotated.rows / 2);
    if (y0 + rotated.rows <= img.rows && rotated.cols + 4 <= left)
      rotated.copyTo(img(cv::Rect(4, y0, rotated.cols, rotated.rows)));
  }

  for (const PlotSeries& s : series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    for (std::size_t i = 0; i < n && i < s.low.size() && i < s.high.size(); ++i) {
      if (!std::isfinite(s.low[i]) || !std::isfinite(s.high[i])) continue;
      const int x = px(s.x[i]), lo = py(s.low[i]), hi = py(s.high[i]);
      cv::line(img, {x, lo}, {x, hi}, s.color, 1, cv::LINE_AA);
      cv::line(img, {x - 4, lo}, {x + 4, lo}, s.color, 1, cv::LINE_AA);
      cv::line(img, {x - 4, hi}, {x + 4, hi}, s.color, 1, cv::LINE_AA);
    }
    if (s.style != PlotSeries::Style::Dots)
      for (std::size_t i = 1; i < n; ++i)
        cv::line(img, {px(s.x[i - 1]), py(s.y[i - 1])}, {px(s.x[i]), py(s.y[i])}, s.color, 2, cv::LINE_AA);
    if (s.style != PlotSeries::Style::Line)
      for (std::size_t i = 0; i < n; ++i)
        cv::circle(img, {px(s.x[i]), py(s.y[i])}, s.style == PlotSeries::Style::Dots ? 3 : 4, s.color,
                   cv::FILLED, cv::LINE_AA);
  }

  // Legend, top left inside the axes.
  int y = area.y + 20;
  for (const PlotSeries& s : series) {
    if (s.label.empty()) continue;
    const cv::Point mark(area.x + 16, y - 4);
    if (s.style != PlotSeries::Style::Dots)
      cv::line(img, mark - cv::Point(10, 0), mark + cv::Point(10, 0), s.color, 2, cv::LINE_AA);
    if (s.style != PlotSeries::Style::Line) cv::circle(img, mark, 4, s.color, cv::FILLED, cv::LINE_AA);
    text(img, s.label, {area.x + 34, y}, 0.45);
    y += 20;
  }
  return img;
}

}  // namespace vitscope::render

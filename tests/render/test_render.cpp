// The pictures: sizes, non-emptiness, and that what is drawn follows the data.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include <catch2/catch.hpp>

#include "vitscope/render/render.hpp"

using namespace vitscope;

namespace {

cv::Mat grey_photo(int h, int w) { return cv::Mat(h, w, CV_8UC3, cv::Scalar(128, 128, 128)); }

xt::xtensor<float, 2> hot_corner(int n, bool top_left) {
  xt::xtensor<float, 2> heat = xt::xtensor<float, 2>::from_shape({static_cast<std::size_t>(n), static_cast<std::size_t>(n)});
  heat.fill(0.0f);
  if (top_left) heat(0, 0) = 1.0f; else heat(n - 1, n - 1) = 1.0f;
  return heat;
}

double mean_abs_difference(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  const cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3;
}

}  // namespace

TEST_CASE("overlays differ where the maps differ", "[render]") {
  const cv::Mat photo = grey_photo(224, 224);
  const cv::Mat a = render::overlay(photo, hot_corner(14, true));
  const cv::Mat b = render::overlay(photo, hot_corner(14, false));
  REQUIRE(a.size() == photo.size());
  REQUIRE(a.type() == CV_8UC3);
  // The hot corner is red-ish (turbo's top end), the cold side blue-ish.
  const cv::Vec3b hot = a.at<cv::Vec3b>(2, 2), cold = a.at<cv::Vec3b>(220, 220);
  CHECK(hot[2] > hot[0]);
  CHECK(cold[0] > cold[2]);
  CHECK(mean_abs_difference(a(cv::Rect(0, 0, 32, 32)), b(cv::Rect(0, 0, 32, 32))) > 20);
  // Same map, same picture.
  CHECK(mean_abs_difference(a, render::overlay(photo, hot_corner(14, true))) == 0);
}

TEST_CASE("a constant map does not divide by zero", "[render]") {
  xt::xtensor<float, 2> flat = xt::xtensor<float, 2>::from_shape({4, 4});
  flat.fill(0.3f);
  const cv::Mat img = render::heat_image(flat, {32, 32});
  CHECK(img.size() == cv::Size(32, 32));
}

TEST_CASE("captions and grids lay tiles out", "[render]") {
  const cv::Mat tile = grey_photo(50, 80);
  const cv::Mat c = render::captioned(tile, {"first line", "second line"});
  CHECK(c.cols == 80);
  CHECK(c.rows > 50 + 30);
  const cv::Mat g = render::grid({tile, tile, tile}, 2, 4);
  CHECK(g.cols == 4 + 80 + 4 + 80 + 4);
  CHECK(g.rows == 4 + 50 + 4 + 50 + 4);
}

TEST_CASE("nice ticks cover the range with a 1-2-5 step", "[render]") {
  const auto t = render::nice_ticks(0, 230, 6);
  CHECK(t.front() == 0);
  CHECK(t.back() >= 230);
  CHECK(t[1] - t[0] == Approx(50));
  const auto u = render::nice_ticks(0.13, 0.97, 5);
  CHECK(u.front() <= 0.13);
  CHECK(u.back() >= 0.97);
}

TEST_CASE("plots draw every series in its colour", "[render]") {
  render::PlotSeries rising{"rising", {0, 1, 2, 3}, {0, 10, 20, 30}, cv::Scalar(200, 0, 0), render::PlotSeries::Style::LineDots, {}, {}};
  render::PlotSeries dots{"dots", {0.5, 1.5}, {25, 5}, cv::Scalar(0, 0, 200), render::PlotSeries::Style::Dots, {}, {}};
  const cv::Mat img = render::plot({rising, dots}, {"title", "x", "y", {640, 480}});
  CHECK(img.size() == cv::Size(640, 480));
  auto count_colour = [&](cv::Vec3b colour) {
    int n = 0;
    for (int y = 0; y < img.rows; ++y)
      for (int x = 0; x < img.cols; ++x) n += img.at<cv::Vec3b>(y, x) == colour;
    return n;
  };
  CHECK(count_colour({200, 0, 0}) > 100);
  CHECK(count_colour({0, 0, 200}) > 20);
  const auto dir = std::filesystem::temp_directory_path();
  const std::string path = (dir / "vitscope_plot_test.png").string();
  render::write_png(path, img);
  CHECK(cv::imread(path).size() == img.size());
  CHECK_THROWS(render::write_png("/nonexistent/dir/plot.png", img));
}

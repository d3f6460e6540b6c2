// Captions, grids and PNG output.
#include <algorithm>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vitscope/core/error.hpp"
#include "vitscope/render/render.hpp"

namespace vitscope::render {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kFontScale = 0.45;
constexpr int kLineHeight = 18;

}  // namespace

cv::Mat captioned(const cv::Mat& tile, const std::vector<std::string>& lines) {
  const int strip = static_cast<int>(lines.size()) * kLineHeight + 6;
  cv::Mat out(tile.rows + strip, tile.cols, CV_8UC3, cv::Scalar(255, 255, 255));
  tile.copyTo(out(cv::Rect(0, strip, tile.cols, tile.rows)));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    // Long captions are cut to the tile's width rather than drawn past it.
    std::string text = lines[i];
    int baseline = 0;
    while (text.size() > 3 && cv::getTextSize(text, kFont, kFontScale, 1, &baseline).width > tile.cols - 6)
      text = text.substr(0, text.size() - 4) + "...";
    cv::putText(out, text, cv::Point(3, static_cast<int>(i + 1) * kLineHeight), kFont, kFontScale,
                cv::Scalar(20, 20, 20), 1, cv::LINE_AA);
  }
  return out;
}

cv::Mat grid(const std::vector<cv::Mat>& tiles, int columns, int gap) {
  if (tiles.empty()) return cv::Mat(1, 1, CV_8UC3, cv::Scalar(255, 255, 255));
  columns = std::max(1, std::min<int>(columns, static_cast<int>(tiles.size())));
  const int rows = (static_cast<int>(tiles.size()) + columns - 1) / columns;
  std::vector<int> col_width(columns, 0), row_height(rows, 0);
  for (std::size_t i = 0; i < tiles.size(); ++i) {
    col_width[i % columns] = std::max(col_width[i % columns], tiles[i].cols);
    row_height[i / columns] = std::max(row_height[i / columns], tiles[i].rows);
  }
  int width = gap, height = gap;
  for (int w : col_width) width += w + gap;
  for (int h : row_height) height += h + gap;
  cv::Mat out(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  int y = gap;
  for (int r = 0; r < rows; ++r) {
    int x = gap;
    for (int c = 0; c < columns; ++c) {
      const std::size_t i = static_cast<std::size_t>(r * columns + c);
      if (i < tiles.size()) tiles[i].copyTo(out(cv::Rect(x, y, tiles[i].cols, tiles[i].rows)));
      x += col_width[c] + gap;
    }
    y += row_height[r] + gap;
  }
  return out;
}

void write_png(const std::string& path, const cv::Mat& image) {
  bool ok = false;
  try {
    ok = cv::imwrite(path, image);
  } catch (const cv::Exception&) {
    ok = false;
  }
  if (!ok) throw ConfigError(path + ": cannot write PNG");
}

}  // namespace vitscope::render

#include "cli/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vitscope::cli {
namespace {

constexpr int kBarWidth = 30;
constexpr double kBarRedrawSeconds = 0.1;
const char kClearToEndOfLine[] = "\x1b[K";

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long total = std::lround(seconds);
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

Progress::Mode Progress::mode_for_stderr(bool quiet) {
  if (quiet) return Mode::Quiet;
  return ::isatty(STDERR_FILENO) ? Mode::Bar : Mode::Lines;
}

Progress::Progress(std::size_t total, Mode mode, double line_interval_seconds, std::ostream& out)
    : total_(total), mode_(mode), line_interval_(line_interval_seconds), out_(out) {
  last_draw_ = start_;
}

std::string Progress::status_text(bool bar) const {
  const std::size_t done = ok_ + failed_;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  const double eta = rate > 0 ? static_cast<double>(total_ - std::min(done, total_)) / rate : NAN;
  const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  std::string text;
  if (bar) {
    const int filled = static_cast<int>(fraction * kBarWidth);
    text = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "] ";
  } else {
    text = "vitscope batch: ";
  }
  char numbers[160];
  std::snprintf(numbers, sizeof numbers, "%zu/%zu images (%.0f%%), %.1f images/s, ETA %s, %zu failed",
                done, total_, 100 * fraction, rate, format_duration(eta).c_str(), failed_);
  return text + numbers;
}

void Progress::draw_bar() {
  out_ << '\r' << status_text(true) << kClearToEndOfLine << std::flush;
  bar_drawn_ = true;
}

void Progress::update(std::size_t ok, std::size_t failed) {
  if (mode_ == Mode::Quiet) return;
  std::lock_guard<std::mutex> lock(mutex_);
  ok_ = ok;
  failed_ = failed;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (mode_ == Mode::Bar && since >= kBarRedrawSeconds) {
    draw_bar();
    last_draw_ = now;
  } else if (mode_ == Mode::Lines && since >= line_interval_) {
    out_ << status_text(false) << '\n' << std::flush;
    last_draw_ = now;
  }
}

void Progress::message(const std::string& line) {
  if (mode_ == Mode::Quiet) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (mode_ == Mode::Bar && bar_drawn_) out_ << '\r' << kClearToEndOfLine;
  out_ << line << '\n';
  if (mode_ == Mode::Bar && bar_drawn_) draw_bar();
  out_ << std::flush;
}

void Progress::finish() {
  if (mode_ != Mode::Bar) return;
  std::lock_guard<std::mutex> lock(mutex_);
  draw_bar();
  out_ << '\n' << std::flush;
}

}  // namespace vitscope::cli

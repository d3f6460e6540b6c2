#pragma once
// Progress of a long run on stderr: a bar redrawn in place when stderr is a terminal (images done /
// total, images per second, ETA, errors), a plain line every few seconds otherwise (logs, Slurm),
// nothing when quiet. Thread-safe.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>

namespace vitscope::cli {

class Progress {
 public:
  enum class Mode { Bar, Lines, Quiet };
  // Bar when stderr is a terminal, else Lines; Quiet when asked.
  static Mode mode_for_stderr(bool quiet);

  Progress(std::size_t total, Mode mode, double line_interval_seconds, std::ostream& out);

  // Images done so far (ok and failed); draws when it is time to.
  void update(std::size_t ok, std::size_t failed);
  // A line of its own (e.g. a failed input), printed above the bar; dropped when quiet.
  void message(const std::string& line);
  // Draws the final state of the bar and ends its line.
  void finish();

 private:
  using Clock = std::chrono::steady_clock;
  std::string status_text(bool bar) const;
  void draw_bar();

  const std::size_t total_;
  const Mode mode_;
  const double line_interval_;
  std::ostream& out_;
  const Clock::time_point start_ = Clock::now();
  std::mutex mutex_;
  std::size_t ok_ = 0, failed_ = 0;
  Clock::time_point last_draw_{};
  bool bar_drawn_ = false;
};

// "m:ss" or "h:mm:ss".
std::string format_duration(double seconds);

}  // namespace vitscope::cli

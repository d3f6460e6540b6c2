#pragma once
// Where the time of a forward pass goes: wall-clock seconds accumulated per named stage.
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace vitscope {

class StageProfile {
 public:
  void add(const char* stage, double seconds) {
    for (auto& entry : stages_)
      if (entry.first == stage) {
        entry.second += seconds;
        return;
      }
    stages_.emplace_back(stage, seconds);
  }
  // In the order the stages first ran.
  const std::vector<std::pair<std::string, double>>& stages() const { return stages_; }
  void clear() { stages_.clear(); }

 private:
  std::vector<std::pair<std::string, double>> stages_;
};

// Times its own scope into a profile; does nothing when the profile is null.
class ScopedStage {
 public:
  ScopedStage(StageProfile* profile, const char* stage) : profile_(profile), stage_(stage) {
    if (profile_) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedStage() {
    if (profile_)
      profile_->add(stage_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;

 private:
  StageProfile* profile_;
  const char* stage_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace vitscope

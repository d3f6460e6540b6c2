#pragma once
// Ctrl-C and SIGTERM (what Slurm sends at the time limit) as a request to stop cleanly: the first
// signal sets a flag that a long run polls between batches; the handler then resets itself, so a
// second signal ends the process at once.
#include <atomic>

namespace vitscope::cli {

class InterruptFlag {
 public:
  // Installs the handlers; the destructor restores the previous ones. One instance at a time.
  InterruptFlag();
  ~InterruptFlag();
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  const std::atomic<bool>& flag() const;
  // The signal that set the flag, 0 when none.
  int signal() const;
};

}  // namespace vitscope::cli

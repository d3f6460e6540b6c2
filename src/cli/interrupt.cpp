#include "cli/interrupt.hpp"

#include <csignal>

namespace vitscope::cli {
namespace {

std::atomic<bool> g_requested{false};
std::atomic<int> g_signal{0};
struct sigaction g_previous_int, g_previous_term;

extern "C" void on_stop_signal(int signal) {
  g_signal.store(signal);
  g_requested.store(true);
}

}  // namespace

InterruptFlag::InterruptFlag() {
  g_requested.store(false);
  g_signal.store(0);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
}

InterruptFlag::~InterruptFlag() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
}

const std::atomic<bool>& InterruptFlag::flag() const { return g_requested; }

int InterruptFlag::signal() const { return g_signal.load(); }

}  // namespace vitscope::cli

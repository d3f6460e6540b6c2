#pragma once
// Each subcommand registers its options on the CLI11 app and returns the function that runs it;
// the function returns the process exit status.
#include <functional>

#include <CLI/CLI.hpp>

namespace vitscope::cli {

using Command = std::function<int()>;

struct Subcommand {
  CLI::App* app;
  Command run;
};

// Exit statuses shared by every subcommand.
constexpr int kExitOk = 0;
constexpr int kExitSomeInputsFailed = 1;
constexpr int kExitFatal = 2;  // bad weights, unknown model, bad options

Subcommand add_classify_command(CLI::App& app);
Subcommand add_info_command(CLI::App& app);
Subcommand add_models_command(CLI::App& app);
Subcommand add_bench_command(CLI::App& app);
Subcommand add_compare_command(CLI::App& app);
Subcommand add_validate_command(CLI::App& app);
Subcommand add_batch_command(CLI::App& app);
Subcommand add_merge_command(CLI::App& app);
Subcommand add_probe_command(CLI::App& app);
Subcommand add_faithfulness_command(CLI::App& app);

}  // namespace vitscope::cli

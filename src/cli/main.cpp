// vitscope: classify images with a Vision Transformer and show how it looks at them.
#include <iostream>
#include <vector>

#include "cli/commands.hpp"
#include "vitscope/core/error.hpp"

int main(int argc, char** argv) {
  using namespace vitscope;
  CLI::App app{"vitscope: classify images with a Vision Transformer and show how it looks at them"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vitscope 0.1.0");
  const std::vector<cli::Subcommand> commands = {
      cli::add_classify_command(app),
      cli::add_info_command(app),
      cli::add_models_command(app),
      cli::add_bench_command(app),
      cli::add_compare_command(app),
      cli::add_validate_command(app),
      cli::add_batch_command(app),
      cli::add_merge_command(app),
      cli::add_probe_command(app),
      cli::add_faithfulness_command(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : cli::kExitFatal;
  }
  try {
    for (const cli::Subcommand& command : commands)
      if (command.app->parsed()) return command.run();
  } catch (const WeightsError& e) {
    std::cerr << "vitscope: error: " << e.what() << '\n';
    return cli::kExitFatal;
  } catch (const ConfigError& e) {
    std::cerr << "vitscope: error: " << e.what() << '\n';
    return cli::kExitFatal;
  } catch (const std::exception& e) {
    std::cerr << "vitscope: error: " << e.what() << '\n';
    return cli::kExitFatal;
  }
  return cli::kExitFatal;
}

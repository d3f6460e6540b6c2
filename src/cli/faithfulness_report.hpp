#pragma once
// What `vitscope faithfulness` reports: the scoreboard table, its JSON and the curves' plot.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitscope/maps/faithfulness_scoreboard.hpp"

namespace vitscope::cli {

void print_faithfulness_table(const std::vector<FaithfulnessSummary>& rows);
nlohmann::json faithfulness_json(const std::vector<FaithfulnessSummary>& rows, const PerturbationProtocol& protocol);
// Four panels (positive, negative, deletion, insertion): every (model, method)'s mean curve.
void write_faithfulness_plot(const std::string& path, const std::vector<FaithfulnessSummary>& rows,
                             const PerturbationProtocol& protocol);

}  // namespace vitscope::cli

#pragma once
// How `vitscope probe` shows its results: a text table per kind, JSON with every number (one object
// per row), and the window probe's plot.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "vitscope/maps/probe_experiments.hpp"
#include "vitscope/maps/cnn_maps.hpp"

namespace vitscope::cli {

// The scores of one row as JSON fields: top1, top5 (null without labels), agreement, kl, each
// with its 95% interval (<name>_low, <name>_high), and the counts behind them.
nlohmann::json scores_json(const ProbeScores& scores);

// "12.0% [7.0, 19.8]"
std::string proportion_text(const Proportion& p);
// "0.123 [0.100, 0.146]"
std::string mean_text(const MeanInterval& m);

void print_window_probe(const WindowProbe& probe, int depth, bool labelled);
nlohmann::json window_probe_json(const WindowProbe& probe);
// Agreement (and top-1 accuracy, with labels) against the window, one curve per layer count.
void write_window_plot(const WindowProbe& probe, bool labelled, const std::string& path,
                       const std::string& model_name);

// The CNN's theoretical receptive field per layer in patches of patch_size pixels.
void print_cnn_fields(const std::vector<LayerReach>& layers, const std::string& cnn_name, int patch_size);
nlohmann::json cnn_fields_json(const std::vector<LayerReach>& layers, int patch_size);

void print_named_probe(const std::vector<NamedProbeRow>& rows, const char* what, bool labelled);
// parameter: the JSON key of the row's name ("position", "norm"); ReLU rows give their blocks as
// first_block and last_block, numbered from 1.
nlohmann::json named_probe_json(const std::vector<NamedProbeRow>& rows, const char* parameter, int depth);

void print_head_probe(const std::vector<HeadProbeRow>& rows, bool labelled);
nlohmann::json head_probe_json(const std::vector<HeadProbeRow>& rows);

void print_conv_probe(const ConvProbe& probe, bool labelled);
nlohmann::json conv_probe_json(const ConvProbe& probe);
// Each head's averaged kernel as a heat image (offset (0, 0) at the centre), blocks in rows and
// heads in columns.
void write_kernel_images(const ConvProbe& probe, int heads, const std::string& path);

}  // namespace vitscope::cli

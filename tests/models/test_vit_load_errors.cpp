// Loading refuses checkpoints that do not fit a ViT, naming the tensor.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "test_helpers.hpp"
#include "vitscope/core/error.hpp"
#include "vitscope/models/vit.hpp"

using namespace vitscope;
using Catch::Matchers::Contains;

namespace {

// Writes a copy of a golden weights file with one tensor renamed, reshaped or added.
std::string rewrite_checkpoint(const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
  const std::string src = vitscope::testing::data_path("vit/square.safetensors");
  std::ifstream in(src, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  nlohmann::json header = nlohmann::json::parse(bytes.substr(8, n));
  edit(header);
  std::string text = header.dump();
  const std::uint64_t m = text.size();
  const std::string path = (std::filesystem::temp_directory_path() / ("vitscope_" + name + ".safetensors")).string();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&m), 8);
  out << text << bytes.substr(8 + n);
  return path;
}

ModelSpec spec_for_square() {
  ModelSpec spec;
  spec.architecture = "vit";
  spec.heads = 3;
  spec.preprocess.input_height = spec.preprocess.input_width = 64;
  return spec;
}

}  // namespace

TEST_CASE("A missing tensor is named", "[models][vit]") {
  const std::string path = rewrite_checkpoint("missing", [](nlohmann::json& h) {
    h["blocks.1.mlp.fc2.weightX"] = h["blocks.1.mlp.fc2.weight"];
    h.erase("blocks.1.mlp.fc2.weight");
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_WITH(VitModel::load(file, spec_for_square(), nullptr),
                    Contains("blocks.1.mlp.fc2.weight") && Contains(path));
}

TEST_CASE("A tensor of the wrong shape is named with both shapes", "[models][vit]") {
  // Same byte count, different shape: only the shape check can catch it.
  const std::string path = rewrite_checkpoint("reshaped", [](nlohmann::json& h) {
    h["blocks.0.attn.proj.weight"]["shape"] = {24, 96};
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_AS(VitModel::load(file, spec_for_square(), nullptr), WeightsError);
  CHECK_THROWS_WITH(VitModel::load(file, spec_for_square(), nullptr),
                    Contains("blocks.0.attn.proj.weight") && Contains("[24,96]") && Contains("[48,48]"));
}

TEST_CASE("An unknown tensor is refused", "[models][vit]") {
  const std::string path = rewrite_checkpoint("extra", [](nlohmann::json& h) {
    std::uint64_t end = 0;
    for (auto& [key, value] : h.items())
      if (key != "__metadata__") end = std::max(end, value["data_offsets"][1].get<std::uint64_t>());
    h["blocks.0.attn.extra"] = {{"dtype", "F32"}, {"shape", {0}}, {"data_offsets", {end, end}}};
  });
  const SafeTensors file = SafeTensors::open(path);
  CHECK_THROWS_WITH(VitModel::load(file, spec_for_square(), nullptr), Contains("blocks.0.attn.extra"));
}

TEST_CASE("Heads that do not divide the width are refused", "[models][vit]") {
  const SafeTensors file = SafeTensors::open(vitscope::testing::data_path("vit/square.safetensors"));
  ModelSpec spec = spec_for_square();
  spec.heads = 5;
  CHECK_THROWS_WITH(VitModel::load(file, spec, nullptr), Contains("not divisible by 5 heads"));
}

TEST_CASE("A missing tensor is named as missing, not as another one left over", "[models][vit]") {
  // Without block 1's qkv, counting blocks by their qkv would see one block and call block 1's
  // other tensors unexpected.
  const std::string qkv = rewrite_checkpoint("missing_qkv", [](nlohmann::json& h) { h.erase("blocks.1.attn.qkv.weight"); });
  CHECK_THROWS_WITH(VitModel::load(SafeTensors::open(qkv), spec_for_square(), nullptr),
                    Contains("no tensor 'blocks.1.attn.qkv.weight'"));
  const std::string cls = rewrite_checkpoint("missing_cls", [](nlohmann::json& h) { h.erase("cls_token"); });
  CHECK_THROWS_WITH(VitModel::load(SafeTensors::open(cls), spec_for_square(), nullptr),
                    Contains("no tensor 'cls_token'"));
}

// The real DeiT-Tiny weights from ../shared/models: structure, parameter count and known values.
#include <cmath>
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "vitscope/io/safetensors.hpp"

using namespace vitscope;

TEST_CASE("DeiT-Tiny weights read as expected", "[safetensors][shared]") {
  const std::string path = VITSCOPE_SHARED_DIR "/models/deit_tiny_patch16_224.safetensors";
  if (!std::filesystem::is_regular_file(path)) {
    FAIL("missing shared weights file " << path << " (the shared models directory is required)");
  }
  const SafeTensors st = SafeTensors::open(path);

  const std::vector<std::string> names = st.names();
  CHECK(names.size() == 152);
  CHECK(st.metadata().at("format") == "pt");

  std::int64_t parameters = 0;
  std::size_t non_finite = 0;
  for (const std::string& name : names) {
    const TensorInfo& info = st.info(name);
    INFO("tensor " << name);
    CHECK(info.dtype == DType::F32);
    parameters += info.numel();
    const xt::xarray<float> values = st.load_f32(name);
    for (float v : values) non_finite += std::isfinite(v) ? 0 : 1;
  }
  CHECK(parameters == 5'717'416);
  CHECK(non_finite == 0);

  const TensorInfo& qkv_info = st.info("blocks.0.attn.qkv.weight");
  CHECK(qkv_info.dtype == DType::F32);
  CHECK(qkv_info.shape == std::vector<std::int64_t>{576, 192});
  CHECK(st.info("pos_embed").shape == std::vector<std::int64_t>{1, 197, 192});
  CHECK(st.info("cls_token").shape == std::vector<std::int64_t>{1, 1, 192});
  CHECK(st.info("patch_embed.proj.weight").shape == std::vector<std::int64_t>{192, 3, 16, 16});
  CHECK(st.info("head.weight").shape == std::vector<std::int64_t>{1000, 192});

  // Reference values read from the same file with numpy (scripts/golden/safetensors_io.py).
  const xt::xarray<float> qkv = st.load_f32("blocks.0.attn.qkv.weight", {576, 192});
  CHECK(qkv(0, 0) == 0x1.16d2a6p-8f);
  CHECK(qkv(0, 1) == 0x1.0eb404p-6f);
  CHECK(qkv(0, 2) == -0x1.428388p-6f);
  CHECK(qkv(575, 191) == -0x1.fcdd3ap-6f);
  double sum = 0.0;
  for (float v : qkv) sum += v;
  INFO("sum of blocks.0.attn.qkv.weight = " << sum);
  CHECK(std::abs(sum - -2.526126846994032) < 1e-9);

  const xt::xarray<float> head_bias = st.load_f32("head.bias", {1000});
  double bias_sum = 0.0;
  for (float v : head_bias) bias_sum += v;
  INFO("sum of head.bias = " << bias_sum);
  CHECK(std::abs(bias_sum - -50.750919665704714) < 1e-9);
}

// The window probe on the real DeiT-Tiny and the 100 shared photos against its PyTorch reference
// (scripts/probe/window_reference.py → tests/data/probe/deit_tiny_window.safetensors): photo by
// photo (every third photo, for the sanitizer build's sake), the same top-1 wherever PyTorch's top
// two are not a near-tie and the same KL from the unmodified model; over all 100 photos, the same
// attention mass outside each window.
#include <cmath>
#include <cstring>
#include <string>

#include <nlohmann/json.hpp>

#include "models/imagenet100.hpp"
#include "models/test_helpers.hpp"
#include "vitscope/io/image.hpp"
#include "vitscope/maps/probe_experiments.hpp"
#include "vitscope/models/model_registry.hpp"
#include "vitscope/preprocess/preprocess.hpp"

using namespace vitscope;
using namespace vitscope::testing;

namespace {

// Below this logit margin between PyTorch's top two classes, fp32 summation order may flip the
// top-1; those photos are not compared (at most a few per variant).
constexpr double kNearTie = 1e-3;
// Every third photo of the reference's 100 (34) per photo; the sanitizer builds, 20 times slower,
// take every tenth and leave the outside-window mass (a pass over all 100) to the plain build:
// what they look for, memory and threading errors, is in the same code either way.
#ifdef VITSCOPE_SANITIZER_BUILD
constexpr std::size_t kEvery = 10;
constexpr bool kOutsideMass = false;
#else
constexpr std::size_t kEvery = 3;
constexpr bool kOutsideMass = true;
#endif

ProbeImages shared_photos(const std::vector<std::string>& files, const PreprocessConfig& config) {
  const std::string dir = shared_path("images/imagenet-100");
  const auto labels = read_labels_csv(dir + "/labels.csv");
  ProbeImages images;
  images.images = xt::xtensor<float, 4>::from_shape(
      {files.size(), 3, static_cast<std::size_t>(config.input_height), static_cast<std::size_t>(config.input_width)});
  for (std::size_t i = 0; i < files.size(); ++i) {
    const xt::xtensor<float, 3> x = preprocess(load_image(dir + "/" + files[i]), config);
    std::copy(x.begin(), x.end(), images.images.begin() + static_cast<std::ptrdiff_t>(i * x.size()));
    images.paths.push_back(files[i]);
    images.labels.push_back(labels.at(files[i]));
  }
  return images;
}

// An I32 tensor of class indices, [n].
std::vector<int> class_indices(const SafeTensors& file, const std::string& name) {
  const TensorInfo& info = file.info(name);
  REQUIRE(info.dtype == DType::I32);
  std::vector<std::int32_t> values(static_cast<std::size_t>(info.numel()));
  std::memcpy(values.data(), file.data(name), values.size() * sizeof(std::int32_t));
  return std::vector<int>(values.begin(), values.end());
}

}  // namespace

TEST_CASE("The window probe reproduces PyTorch photo by photo on DeiT-Tiny", "[maps][probe][real]") {
  const SafeTensors golden = SafeTensors::open(data_path("probe/deit_tiny_window.safetensors"));
  std::vector<std::string> files;
  for (const auto& f : nlohmann::json::parse(golden.metadata().at("files"))) files.push_back(f);
  REQUIRE(files.size() == 100);
  const ModelRegistry registry = ModelRegistry::load(std::string(VITSCOPE_REPO_DIR) + "/weights/models.json");
  const ModelSpec spec = registry.resolve(shared_path("models/deit_tiny_patch16_224.safetensors"));
  ThreadPool pool(2);
  const auto model = VitModel::load(SafeTensors::open(spec.weights_path), spec, &pool);
  Session session(&pool);
  std::vector<std::string> subset;
  for (std::size_t i = 0; i < files.size(); i += kEvery) subset.push_back(files[i]);
  const ProbeImages images = shared_photos(subset, spec.preprocess);
  VitProbe probe(*model, session, images);

  // The unmodified model first: the reference's top-1 on every photo that is not a near-tie.
  const std::vector<int> full_top1 = class_indices(golden, "top1.full");
  const xt::xarray<float> full_margin = golden.load_f32("margin.full");
  for (std::size_t j = 0; j < subset.size(); ++j)
    if (full_margin(j * kEvery) > kNearTie) CHECK(probe.unmodified().predictions[j] == full_top1[j * kEvery]);

  // A subset of the reference's windows and layer counts keeps the test short (and the sanitizer run).
  const WindowProbe result = probe_windows(probe, {3, 7, 15}, {4});
  for (const WindowProbeRow& row : result.rows) {
    const std::string key = "k" + std::to_string(row.window) + ".L" + std::to_string(row.layers);
    CAPTURE(key);
    const std::vector<int> top1 = class_indices(golden, "top1." + key);
    const xt::xarray<float> margin = golden.load_f32("margin." + key), kl = golden.load_f32("kl." + key);
    int compared = 0, same = 0;
    double worst_kl = 0;  // relative to max(1, KL): fp32 logits of two implementations
    for (std::size_t j = 0; j < subset.size(); ++j) {
      const std::size_t i = j * kEvery;  // the photo's index in the reference
      if (margin(i) > kNearTie) {
        ++compared;
        same += row.scores.predictions[j] == top1[i];
      }
      worst_kl = std::max(worst_kl, std::abs(row.scores.kl_per_image[j] - kl(i)) / std::max(1.0, double(kl(i))));
    }
    INFO("top-1 equal to PyTorch's on " << same << "/" << compared << " photos that are not near-ties; "
         << "worst per-photo KL difference " << worst_kl);
    CHECK(compared >= static_cast<int>(subset.size()) - 3);
    CHECK(same == compared);
    CHECK(worst_kl <= 1e-3);
  }
  // The attention mass outside each window is a mean over all 100 photos in the reference: one
  // recording pass over them, summed with attention_outside_window as the probe does.
  if (!kOutsideMass) return;
  const ProbeImages all = shared_photos(files, spec.preprocess);
  const TokenLayout layout = probe.layout();
  std::vector<std::vector<double>> outside(result.windows.size(), std::vector<double>(model->config().depth, 0.0));
  VitForwardOptions record;
  record.record_attention = true;
  const std::size_t image_size = all.images.size() / all.images.shape(0);
  for (std::size_t first = 0; first < files.size(); first += 10) {
    xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({10, 3, all.images.shape(2), all.images.shape(3)});
    std::copy(all.images.data() + first * image_size, all.images.data() + (first + 10) * image_size, batch.data());
    model->forward(batch, session, record);
    for (std::size_t w = 0; w < result.windows.size(); ++w) {
      const std::vector<double> sums = attention_outside_window(session.recording().attention, layout, result.windows[w]);
      for (std::size_t b = 0; b < sums.size(); ++b) outside[w][b] += sums[b];
    }
  }
  const double rows = double(files.size()) * model->config().heads * layout.grid_h * layout.grid_w;
  for (std::size_t w = 0; w < result.windows.size(); ++w) {
    const xt::xarray<float> expected = golden.load_f32("outside.k" + std::to_string(result.windows[w]));
    for (std::size_t b = 0; b < expected.size(); ++b) {
      CAPTURE(result.windows[w], b);
      CHECK(outside[w][b] / rows == Approx(expected(b)).margin(1e-4));
    }
  }
}

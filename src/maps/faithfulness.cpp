// Perturbation tests of explanation maps (see faithfulness.hpp): the perturbed images of one map
// built patch by patch and classified in batches.
#include "vitscope/maps/faithfulness.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>

#include "vitscope/core/error.hpp"
#include "vitscope/models/predictions.hpp"

namespace vitscope {
namespace {

// probabilities[n, classes] of a batch of images, softmax in double. A non-finite logit throws
// ModelOutputError: every score of the image would be NaN.
xt::xtensor<double, 2> probabilities(const ImageClassifier& model, Session& session, const xt::xtensor<float, 4>& batch) {
  const xt::xtensor<float, 2> logits = model.forward(batch, session);
  xt::xtensor<double, 2> p = xt::xtensor<double, 2>::from_shape(logits.shape());
  for (std::size_t i = 0; i < logits.shape(0); ++i) {
    require_finite_logits(&logits(i, 0), static_cast<int>(logits.shape(1)), model.spec().name);
    double m = -INFINITY, z = 0;
    for (std::size_t k = 0; k < logits.shape(1); ++k) m = std::max(m, static_cast<double>(logits(i, k)));
    for (std::size_t k = 0; k < logits.shape(1); ++k) z += std::exp(logits(i, k) - m);
    for (std::size_t k = 0; k < logits.shape(1); ++k) p(i, k) = std::exp(logits(i, k) - m) / z;
  }
  return p;
}

int argmax_row(const xt::xtensor<double, 2>& p, std::size_t row) {
  int best = 0;
  for (std::size_t k = 1; k < p.shape(1); ++k)
    if (p(row, k) > p(row, static_cast<std::size_t>(best))) best = static_cast<int>(k);
  return best;
}

// dst's patch ← src's patch (all channels); patch index row-major over the grid.
void copy_patch(const xt::xtensor<float, 3>& src, xt::xtensor<float, 3>& dst, int patch, int P) {
  const int gw = static_cast<int>(src.shape(2)) / P, y0 = (patch / gw) * P, x0 = (patch % gw) * P;
  for (std::size_t c = 0; c < src.shape(0); ++c)
    for (int y = y0; y < y0 + P; ++y)
      std::copy_n(&src(c, y, x0), P, &dst(c, y, x0));
}

void zero_patch(xt::xtensor<float, 3>& image, int patch, int P) {
  const int gw = static_cast<int>(image.shape(2)) / P, y0 = (patch / gw) * P, x0 = (patch % gw) * P;
  for (std::size_t c = 0; c < image.shape(0); ++c)
    for (int y = y0; y < y0 + P; ++y) std::fill_n(&image(c, y, x0), P, 0.0f);
}

// dst ← src convolved per channel with k along x (along_x) or along y, zero padding.
void blur_along(const xt::xtensor<float, 3>& src, xt::xtensor<float, 3>& dst, const std::vector<double>& k,
                bool along_x) {
  const int size = static_cast<int>(k.size()), r = size / 2;
  const int C = static_cast<int>(src.shape(0)), H = static_cast<int>(src.shape(1)), W = static_cast<int>(src.shape(2));
  const int extent = along_x ? W : H;
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < W; ++x) {
        const int at = along_x ? x : y;
        double v = 0;
        for (int i = 0; i < size; ++i) {
          const int shifted = at + i - r;
          if (shifted >= 0 && shifted < extent) v += k[i] * (along_x ? src(c, y, shifted) : src(c, shifted, x));
        }
        dst(c, y, x) = static_cast<float>(v);
      }
}

// The image convolved per channel with the outer product of `kernel`, zero padding: rows, then columns.
xt::xtensor<float, 3> separable_blur(const xt::xtensor<float, 3>& image, const std::vector<double>& k) {
  xt::xtensor<float, 3> rows = xt::zeros<float>(image.shape()), out = xt::zeros<float>(image.shape());
  blur_along(image, rows, k, true);
  blur_along(rows, out, k, false);
  return out;
}

// Runs images through the model `batch` at a time.
class BatchRunner {
 public:
  BatchRunner(const ImageClassifier& model, Session& session, const xt::xtensor<float, 3>& like, int batch)
      : model_(model), session_(session), batch_(batch), shape_{like.shape(0), like.shape(1), like.shape(2)} {}
  void add(const xt::xtensor<float, 3>& image) { pending_.push_back(image); }
  xt::xtensor<double, 2> run() {  // [n, classes], in the order added
    std::vector<xt::xtensor<double, 2>> parts;
    std::size_t rows = 0;
    for (std::size_t start = 0; start < pending_.size(); start += static_cast<std::size_t>(batch_)) {
      const std::size_t n = std::min(pending_.size() - start, static_cast<std::size_t>(batch_));
      xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape({n, shape_[0], shape_[1], shape_[2]});
      const std::size_t size = shape_[0] * shape_[1] * shape_[2];
      for (std::size_t i = 0; i < n; ++i) std::copy(pending_[start + i].begin(), pending_[start + i].end(), batch.begin() + i * size);
      parts.push_back(probabilities(model_, session_, batch));
      rows += n;
    }
    const std::size_t classes = parts.empty() ? 0 : parts.front().shape(1);
    xt::xtensor<double, 2> all = xt::xtensor<double, 2>::from_shape({rows, classes});
    std::size_t offset = 0;
    for (const auto& part : parts) {
      std::copy(part.begin(), part.end(), all.begin() + offset * classes);
      offset += part.shape(0);
    }
    pending_.clear();
    return all;
  }

 private:
  const ImageClassifier& model_;
  Session& session_;
  int batch_;
  std::array<std::size_t, 3> shape_;
  std::vector<xt::xtensor<float, 3>> pending_;
};

}  // namespace

PerturbationBase perturbation_base(const ImageClassifier& model, Session& session, const xt::xtensor<float, 3>& image,
                                   const PerturbationProtocol& protocol) {
  PerturbationBase base;
  base.image = image;
  base.blurred = separable_blur(image, rise_blur_kernel(protocol.blur_size, protocol.blur_sigma));
  BatchRunner runner(model, session, image, protocol.batch);
  runner.add(image);
  runner.add(xt::zeros<float>(image.shape()));
  runner.add(base.blurred);
  const xt::xtensor<double, 2> p = runner.run();
  base.class_index = argmax_row(p, 0);
  const std::size_t c = static_cast<std::size_t>(base.class_index);
  base.probability = p(0, c);
  base.zero_probability = p(1, c);
  base.blurred_probability = p(2, c);
  return base;
}

std::vector<int> patches_by_relevance(const xt::xtensor<float, 2>& relevance, bool most_relevant_first,
                                      std::uint64_t tie_seed) {
  const std::size_t n = relevance.size();
  std::vector<int> order(n), tie_rank(n);
  std::iota(order.begin(), order.end(), 0);
  std::iota(tie_rank.begin(), tie_rank.end(), 0);
  std::mt19937_64 rng(tie_seed);
  for (std::size_t i = n; i > 1; --i) std::swap(tie_rank[i - 1], tie_rank[rng() % i]);  // Fisher–Yates, portable
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i] = std::isnan(relevance.data()[i]) ? -INFINITY : relevance.data()[i];
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (r[a] != r[b]) return most_relevant_first ? r[a] > r[b] : r[a] < r[b];
    return tie_rank[a] < tie_rank[b];
  });
  return order;
}

std::vector<double> rise_blur_kernel(int size, double sigma) {
  // scipy.ndimage.gaussian_filter1d of a delta: weights w[j], |j| ≤ round(4σ), normalised; each
  // tap reads the input at i + j, reflected about the outer edges (… c b a | a b c … | … c b a).
  const int radius = static_cast<int>(4 * sigma + 0.5), middle = size / 2;
  std::vector<double> w(static_cast<std::size_t>(2 * radius + 1));
  double sum = 0;
  for (int j = -radius; j <= radius; ++j) sum += w[j + radius] = std::exp(-0.5 * j * j / (sigma * sigma));
  for (double& v : w) v /= sum;
  auto reflect = [size](int p) {
    const int period = 2 * size;
    p = ((p % period) + period) % period;
    return p < size ? p : period - 1 - p;
  };
  std::vector<double> kernel(static_cast<std::size_t>(size), 0.0);
  for (int i = 0; i < size; ++i)
    for (int j = -radius; j <= radius; ++j)
      if (reflect(i + j) == middle) kernel[i] += w[j + radius];
  return kernel;
}

double perturbation_auc(const std::vector<double>& fractions, const std::vector<double>& y) {
  double area = 0;
  for (std::size_t i = 1; i < y.size(); ++i) area += (fractions[i] - fractions[i - 1]) * (y[i] + y[i - 1]) / 2;
  return 100 * area;
}

double rise_auc(const std::vector<double>& y) {
  if (y.size() < 2) return y.empty() ? 0 : y.front();
  return (std::accumulate(y.begin(), y.end(), 0.0) - y.front() / 2 - y.back() / 2) / static_cast<double>(y.size() - 1);
}

PerturbationCurves perturbation_curves(const ImageClassifier& model, Session& session, const PerturbationBase& base,
                                       const xt::xtensor<float, 2>& relevance, const PerturbationProtocol& protocol) {
  const int P = protocol.patch_size;
  const int gh = static_cast<int>(base.image.shape(1)) / P, gw = static_cast<int>(base.image.shape(2)) / P;
  if (static_cast<int>(relevance.shape(0)) != gh || static_cast<int>(relevance.shape(1)) != gw)
    throw ConfigError("perturbation: a " + std::to_string(relevance.shape(0)) + "x" + std::to_string(relevance.shape(1)) +
                      " relevance map for a " + std::to_string(gh) + "x" + std::to_string(gw) + " patch grid");
  if (protocol.fractions.empty() || protocol.fractions.front() != 0.0)
    throw ConfigError("perturbation: the fractions must start at 0");
  const int N = gh * gw;
  const std::vector<int> most = patches_by_relevance(relevance, true, base.tie_seed),
                         least = patches_by_relevance(relevance, false, base.tie_seed);
  const int step = protocol.patches_per_step, steps = (N + step - 1) / step;
  auto removed_count = [&](double fraction) { return static_cast<int>(std::floor(fraction * N + 1e-9)); };

  // Batch order: positive, negative (fractions after the first), deletion, insertion (inner steps).
  BatchRunner runner(model, session, base.image, protocol.batch);
  for (const std::vector<int>* order : {&most, &least})
    for (std::size_t f = 1; f < protocol.fractions.size(); ++f) {
      xt::xtensor<float, 3> image = base.image;
      for (int i = 0; i < removed_count(protocol.fractions[f]); ++i) zero_patch(image, (*order)[i], P);
      runner.add(image);
    }
  {
    xt::xtensor<float, 3> deleted = base.image, inserted = base.blurred;
    for (int k = 1; k < steps; ++k) {
      for (int i = (k - 1) * step; i < std::min(k * step, N); ++i) {
        zero_patch(deleted, most[i], P);
        copy_patch(base.image, inserted, most[i], P);
      }
      runner.add(deleted);
      runner.add(inserted);
    }
  }
  const xt::xtensor<double, 2> p = runner.run();
  const std::size_t c = static_cast<std::size_t>(base.class_index);

  PerturbationCurves curves;
  std::size_t row = 0;
  for (std::vector<double>* curve : {&curves.positive, &curves.negative}) {
    curve->push_back(1.0);  // nothing removed: the top-1 is the class
    for (std::size_t f = 1; f < protocol.fractions.size(); ++f, ++row)
      curve->push_back(argmax_row(p, row) == base.class_index ? 1.0 : 0.0);
  }
  curves.deletion.push_back(base.probability);
  curves.insertion.push_back(base.blurred_probability);
  for (int k = 1; k < steps; ++k, row += 2) {
    curves.deletion.push_back(p(row, c));
    curves.insertion.push_back(p(row + 1, c));
  }
  curves.deletion.push_back(base.zero_probability);
  curves.insertion.push_back(base.probability);
  curves.positive_auc = perturbation_auc(protocol.fractions, curves.positive);
  curves.negative_auc = perturbation_auc(protocol.fractions, curves.negative);
  curves.deletion_auc = rise_auc(curves.deletion);
  curves.insertion_auc = rise_auc(curves.insertion);
  return curves;
}

namespace {

MeanInterval percentile_interval(double mean, std::vector<double>& means, int n) {
  std::sort(means.begin(), means.end());
  auto at = [&](double q) { return means[static_cast<std::size_t>(std::floor(q * (means.size() - 1) + 0.5))]; };
  MeanInterval m;
  m.mean = mean;
  m.low = means.empty() ? mean : at(0.025);
  m.high = means.empty() ? mean : at(0.975);
  m.n = n;
  return m;
}

}  // namespace

MeanInterval bootstrap_mean(const std::vector<double>& values, int resamples, std::uint64_t seed) {
  return bootstrap_paired_difference(values, std::vector<double>(values.size(), 0.0), resamples, seed);
}

MeanInterval bootstrap_paired_difference(const std::vector<double>& a, const std::vector<double>& b, int resamples,
                                         std::uint64_t seed) {
  if (a.size() != b.size()) throw ConfigError("bootstrap: unpaired values");
  const std::size_t n = a.size();
  if (n == 0) return {};
  std::vector<double> d(n);
  for (std::size_t i = 0; i < n; ++i) d[i] = a[i] - b[i];
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::vector<double> means(static_cast<std::size_t>(resamples));
  for (double& m : means) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += d[rng() % n];
    m = sum / static_cast<double>(n);
  }
  return percentile_interval(mean, means, static_cast<int>(n));
}

}  // namespace vitscope

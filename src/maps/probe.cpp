// Forward variants scored against the unmodified model on a set of images.
#include "vitscope/maps/probe.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "vitscope/core/error.hpp"
#include "vitscope/models/predictions.hpp"

namespace vitscope {
namespace {

constexpr double kZ95 = 1.959963984540054;  // the standard normal's 97.5% quantile

// log softmax of logits[n], in double.
void log_softmax(const float* logits, int n, double* out) {
  const double max = *std::max_element(logits, logits + n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - max);
  const double log_sum = std::log(sum) + max;
  for (int i = 0; i < n; ++i) out[i] = double(logits[i]) - log_sum;
}

int argmax(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

// True when `label` is among the k largest of logits[n] (ties counted against it).
bool in_top_k(const float* logits, int n, int label, int k) {
  int above = 0;
  for (int i = 0; i < n; ++i) above += logits[i] > logits[label];
  return above < k;
}

// The window's keys for the patch at (r, c): visible iff |Δr| ≤ h and |Δc| ≤ h, plus the prefix.
template <class Visit>
void for_each_window_key(const TokenLayout& layout, int h, int r, int c, const Visit& visit) {
  for (int t = 0; t < layout.prefix; ++t) visit(t);
  for (int rr = std::max(0, r - h); rr <= std::min(layout.grid_h - 1, r + h); ++rr)
    for (int cc = std::max(0, c - h); cc <= std::min(layout.grid_w - 1, c + h); ++cc)
      visit(layout.prefix + rr * layout.grid_w + cc);
}

}  // namespace

Proportion wilson_interval(int count, int n) {
  Proportion p;
  p.count = count;
  p.n = n;
  if (n == 0) return p;
  const double phat = double(count) / n, z2 = kZ95 * kZ95;
  const double centre = (phat + z2 / (2 * n)) / (1 + z2 / n);
  const double half = kZ95 * std::sqrt(phat * (1 - phat) / n + z2 / (4.0 * n * n)) / (1 + z2 / n);
  p.value = phat;
  p.low = std::max(0.0, centre - half);
  p.high = std::min(1.0, centre + half);
  return p;
}

MeanInterval mean_interval(const std::vector<double>& values) {
  MeanInterval m;
  m.n = static_cast<int>(values.size());
  if (values.empty()) return m;
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / m.n;
  double squares = 0;
  for (double v : values) squares += (v - m.mean) * (v - m.mean);
  const double se = m.n > 1 ? std::sqrt(squares / (m.n - 1) / m.n) : 0.0;
  m.low = m.mean - kZ95 * se;
  m.high = m.mean + kZ95 * se;
  return m;
}

VitProbe::VitProbe(const VitModel& model, Session& session, const ProbeImages& images, int chunk)
    : model_(model), session_(session), images_(images), chunk_(std::max(1, chunk)) {
  const int n = static_cast<int>(images.images.shape(0)), classes = model.num_classes();
  if (!images.labels.empty() && static_cast<int>(images.labels.size()) != n)
    throw ConfigError("probe: " + std::to_string(images.labels.size()) + " labels for " +
                      std::to_string(n) + " images");
  for (int label : images.labels)
    if (label < 0 || label >= classes)
      throw ConfigError("probe: class index " + std::to_string(label) + " outside the model's " +
                        std::to_string(classes) + " classes");
  probabilities_ = xt::xtensor<double, 2>::from_shape({static_cast<std::size_t>(n), static_cast<std::size_t>(classes)});
  const VitForwardOptions unmodified;
  for (int first = 0; first < n; first += chunk_) {
    const int count = std::min(chunk_, n - first);
    const xt::xtensor<float, 2> logits = run(unmodified, first, count);
    for (int i = 0; i < count; ++i) {
      // A model that gives NaN or infinity has no probabilities to compare variants against.
      const std::string problem = non_finite_logits_problem(&logits(i, 0), classes, model_.spec().name);
      if (!problem.empty()) {
        const std::string image = first + i < static_cast<int>(images_.paths.size())
                                      ? images_.paths[first + i]
                                      : "image " + std::to_string(first + i);
        throw ModelOutputError(image + ": " + problem + "; nothing to probe");
      }
      log_softmax(&logits(i, 0), classes, &probabilities_(first + i, 0));  // log-probabilities
    }
  }
  unmodified_ = score(unmodified);
}

TokenLayout VitProbe::layout() const {
  return token_layout(model_, static_cast<int>(images_.images.shape(2)), static_cast<int>(images_.images.shape(3)));
}

xt::xtensor<float, 2> VitProbe::run(const VitForwardOptions& options, int first, int count) {
  const std::size_t image_size = images_.images.size() / images_.images.shape(0);
  xt::xtensor<float, 4> batch = xt::xtensor<float, 4>::from_shape(
      {static_cast<std::size_t>(count), images_.images.shape(1), images_.images.shape(2), images_.images.shape(3)});
  std::copy(images_.images.data() + first * image_size, images_.images.data() + (first + count) * image_size,
            batch.data());
  return model_.forward(batch, session_, options);
}

ProbeScores VitProbe::score(const VitForwardOptions& variant) {
  const int n = static_cast<int>(images_.images.shape(0)), classes = model_.num_classes();
  const bool labelled = !images_.labels.empty();
  ProbeScores scores;
  std::vector<double> kl(static_cast<std::size_t>(n));
  std::vector<double> log_p(static_cast<std::size_t>(classes));
  int agree = 0, top1 = 0, top5 = 0;
  for (int first = 0; first < n; first += chunk_) {
    const int count = std::min(chunk_, n - first);
    const xt::xtensor<float, 2> logits = run(variant, first, count);
    for (int i = 0; i < count; ++i) {
      const int image = first + i;
      const float* l = &logits(i, 0);
      const double* log_q = &probabilities_(image, 0);
      log_softmax(l, classes, log_p.data());
      double d = 0;  // KL(unmodified ‖ variant) = Σ q (log q − log p)
      for (int c = 0; c < classes; ++c) d += std::exp(log_q[c]) * (log_q[c] - log_p[c]);
      kl[image] = std::max(d, 0.0);
      const int predicted = argmax(l, classes);
      scores.predictions.push_back(predicted);
      agree += predicted == static_cast<int>(std::max_element(log_q, log_q + classes) - log_q);
      if (labelled) {
        top1 += predicted == images_.labels[image];
        top5 += in_top_k(l, classes, images_.labels[image], 5);
      }
    }
  }
  scores.agreement = wilson_interval(agree, n);
  scores.kl = mean_interval(kl);
  scores.kl_per_image = std::move(kl);
  if (labelled) {
    scores.top1 = wilson_interval(top1, n);
    scores.top5 = wilson_interval(top5, n);
  }
  return scores;
}

void VitProbe::visit_attention(const std::function<void(const AttentionMaps&, int)>& visit) {
  const int n = static_cast<int>(images_.images.shape(0));
  VitForwardOptions record;
  record.record_attention = true;
  for (int first = 0; first < n; first += chunk_) {
    run(record, first, std::min(chunk_, n - first));
    visit(session_.recording().attention, first);
  }
}

double window_keys_per_query(const TokenLayout& layout, int window) {
  const int patches = layout.grid_h * layout.grid_w, tokens = layout.prefix + patches;
  if (window <= 0) return tokens;
  const int h = window / 2;
  double keys = double(layout.prefix) * tokens;  // the prefix queries see every token
  for (int r = 0; r < layout.grid_h; ++r)
    for (int c = 0; c < layout.grid_w; ++c) for_each_window_key(layout, h, r, c, [&](int) { keys += 1; });
  return keys / tokens;
}

std::vector<double> attention_outside_window(const AttentionMaps& attention, const TokenLayout& layout,
                                             int window) {
  std::vector<double> outside(attention.size(), 0.0);
  const int h = window / 2;
  for (std::size_t block = 0; block < attention.size(); ++block) {
    const xt::xtensor<float, 4>& a = attention[block];  // [B, heads, T, T]
    const std::size_t T = a.shape(3);
    for (std::size_t b = 0; b < a.shape(0); ++b)
      for (std::size_t head = 0; head < a.shape(1); ++head)
        for (int r = 0; r < layout.grid_h; ++r)
          for (int c = 0; c < layout.grid_w; ++c) {
            const float* row = &a(b, head, layout.prefix + r * layout.grid_w + c, 0);
            double all = 0, seen = 0;
            for (std::size_t t = 0; t < T; ++t) all += row[t];
            for_each_window_key(layout, h, r, c, [&](int t) { seen += row[t]; });
            outside[block] += all - seen;
          }
  }
  return outside;
}

xt::xtensor<double, 2> attention_entropy_sum(const AttentionMaps& attention, const TokenLayout& layout) {
  const std::size_t heads = attention.empty() ? 0 : attention[0].shape(1);
  xt::xtensor<double, 2> entropy = xt::zeros<double>({attention.size(), heads});
  for (std::size_t block = 0; block < attention.size(); ++block) {
    const xt::xtensor<float, 4>& a = attention[block];
    const std::size_t T = a.shape(3);
    for (std::size_t b = 0; b < a.shape(0); ++b)
      for (std::size_t head = 0; head < heads; ++head)
        for (std::size_t q = static_cast<std::size_t>(layout.prefix); q < T; ++q) {
          const float* row = &a(b, head, q, 0);
          double e = 0;
          for (std::size_t t = 0; t < T; ++t)
            if (row[t] > 0) e -= double(row[t]) * std::log(double(row[t]));
          entropy(block, head) += e;
        }
  }
  return entropy;
}

}  // namespace vitscope

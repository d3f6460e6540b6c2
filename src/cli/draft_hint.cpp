#include "cli/draft_hint.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace vitscope::cli {
namespace {

constexpr std::size_t kSample = 8;         // JPEGs timed both ways
constexpr double kDecodeShareForHint = 0.5;

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double seconds_to_prepare(const std::vector<std::uint8_t>& bytes, const std::string& path,
                          const ImageLoadOptions& options, const PreprocessConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  (void)preprocess(decode_image(bytes.data(), bytes.size(), path, options), config);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::string draft_hint(const DraftHintInputs& in) {
  const batch::PipelineStats& s = *in.stats;
  if (in.exact.decode != DecodeMode::Exact || s.stop != batch::PipelineStats::Stop::Completed || s.prepared < kSample)
    return {};
  const batch::PrepareTimes& p = s.prepare;
  const double prepare_cpu = p.read + p.hash + p.decode + p.preprocess;
  const double total_cpu = prepare_cpu + s.model * in.model_threads;
  const double decoding = p.decode + p.preprocess;
  if (total_cpu <= 0 || decoding / total_cpu <= kDecodeShareForHint) return {};

  // Every k-th input, JPEGs only; each decoded both ways (exact twice, the first warming the cache).
  std::vector<double> exact_seconds, draft_seconds;
  const std::vector<std::string>& paths = *in.paths;
  const std::size_t step = std::max<std::size_t>(1, paths.size() / kSample);
  for (std::size_t i = 0; i < paths.size() && exact_seconds.size() < kSample; i += step) {
    try {
      const std::vector<std::uint8_t> bytes = read_image_file(paths[i]);
      if (sniff_image_format(bytes.data(), bytes.size()) != ImageFormat::Jpeg) continue;
      (void)seconds_to_prepare(bytes, paths[i], in.exact, in.preprocess);
      exact_seconds.push_back(seconds_to_prepare(bytes, paths[i], in.exact, in.preprocess));
      draft_seconds.push_back(seconds_to_prepare(bytes, paths[i], in.draft, in.preprocess));
    } catch (const std::exception&) {  // an input that failed in the run fails here too
    }
  }
  if (exact_seconds.empty()) return {};
  const double exact_ms = 1e3 * median(exact_seconds), draft_ms = 1e3 * median(draft_seconds);
  if (!(draft_ms < exact_ms)) return {};
  // The run's CPU time with each image's decoding and preprocessing shortened by the measured
  // ratio; the run used every thread it had, so its wall time scales with it.
  const double ratio = draft_ms / exact_ms;
  const double cpu_with_draft = total_cpu - decoding * (1 - ratio);
  const double rate = s.seconds > 0 ? static_cast<double>(s.ok + s.failed) / s.seconds : 0.0;
  char line[512];
  std::snprintf(line, sizeof line,
                "vitscope batch: decoding and preprocessing took %.0f%% of the CPU time. On %zu of these "
                "JPEGs, --decode draft decoded and preprocessed in %.1f ms instead of %.1f ms (%.1fx faster), "
                "which would make this run about %.1fx as fast (~%.0f images/s); its inputs differ slightly "
                "from PyTorch's exact decode (README: Decoding large photos)\n",
                100 * decoding / total_cpu, exact_seconds.size(), draft_ms, exact_ms, exact_ms / draft_ms,
                total_cpu / cpu_with_draft, rate * total_cpu / cpu_with_draft);
  return line;
}

}  // namespace vitscope::cli

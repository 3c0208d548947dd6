#include "ab_stats.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace parklock::launcher {
namespace {

std::vector<double> resample(const std::vector<double>& values, std::mt19937_64& random) {
  std::uniform_int_distribution<size_t> pick(0, values.size() - 1);
  std::vector<double> drawn(values.size());
  for (auto& value : drawn) value = values[pick(random)];
  return drawn;
}

// The q-quantile of sorted values, interpolating between neighbours.
double quantile(const std::vector<double>& sorted, double q) {
  double position = q * double(sorted.size() - 1);
  size_t below = size_t(std::floor(position));
  size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - double(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median of no values");
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

bool ratio_is_defined(const std::vector<double>& arm, const std::vector<double>& baseline) {
  return !arm.empty() && !baseline.empty() &&
         std::all_of(arm.begin(), arm.end(), [](double v) { return v >= 0; }) &&
         std::all_of(baseline.begin(), baseline.end(), [](double v) { return v > 0; });
}

Quartiles quartiles(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("quartiles of no values");
  std::sort(values.begin(), values.end());
  return {values.front(), quantile(values, 0.25), median(values), quantile(values, 0.75), values.back()};
}

RatioEstimate bootstrap_ratio_of_medians(const std::vector<double>& arm,
                                         const std::vector<double>& baseline,
                                         const BootstrapOptions& options) {
  if (!ratio_is_defined(arm, baseline)) throw std::invalid_argument("ratio of medians undefined");
  RatioEstimate estimate;
  estimate.ratio = median(arm) / median(baseline);
  std::mt19937_64 random(options.seed);
  std::vector<double> ratios;
  ratios.reserve(options.resamples);
  for (int i = 0; i < options.resamples; ++i)
    ratios.push_back(median(resample(arm, random)) / median(resample(baseline, random)));
  std::sort(ratios.begin(), ratios.end());
  double tail = (1 - options.confidence) / 2;
  estimate.low = quantile(ratios, tail);
  estimate.high = quantile(ratios, 1 - tail);
  return estimate;
}

Verdict judge(const RatioEstimate& estimate, Better better) {
  if (estimate.low <= 1 && 1 <= estimate.high) return Verdict::no_difference;
  bool higher = estimate.ratio > 1;
  return higher == (better == Better::higher) ? Verdict::better : Verdict::worse;
}

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::no_difference:
      return "no difference";
    case Verdict::better:
      return "better";
    case Verdict::worse:
      return "worse";
  }
  return "";
}

}  // namespace parklock::launcher

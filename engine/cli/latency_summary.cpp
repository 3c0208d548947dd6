#include "engine/cli/latency_summary.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace parklock::engine::cli {

LatencySummary summarize(std::vector<double>& samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    const auto r = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::clamp<size_t>(r, 1, samples.size()) - 1];
  };
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = samples.back();
  return s;
}

}  // namespace parklock::engine::cli

// Summary statistics of a set of latency samples (bench reports).
#pragma once

#include <cstddef>
#include <vector>

namespace parklock::engine::cli {

struct LatencySummary {
  size_t count = 0;
  double mean = 0;  // same unit as the samples
  double p50 = 0;
  double p99 = 0;
  double max = 0;
};

// Percentiles by the nearest-rank method (an observed value, no
// interpolation). All zero for no samples. Sorts `samples`.
LatencySummary summarize(std::vector<double>& samples);

}  // namespace parklock::engine::cli

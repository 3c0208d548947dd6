// Statistics of an A/B: medians, and the ratio of an arm's median to the
// baseline's with a bootstrap confidence interval (each arm resampled with
// replacement on its own, seeded, so a rerun on the same figures prints
// the same interval).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "metric.h"

namespace parklock::launcher {

// The median of a non-empty list.
double median(std::vector<double> values);

// A box plot's five numbers of a non-empty list (quartiles interpolated).
struct Quartiles {
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
};
Quartiles quartiles(std::vector<double> values);

struct BootstrapOptions {
  int resamples = 10000;
  double confidence = 0.95;
  uint64_t seed = 1;
};

struct RatioEstimate {
  double ratio = 0;  // median(arm) / median(baseline)
  double low = 0;    // the interval's bounds
  double high = 0;
};

// A ratio of medians means something for figures that are never negative,
// with a baseline that is always positive (every resample's median then is).
bool ratio_is_defined(const std::vector<double>& arm, const std::vector<double>& baseline);

// Requires ratio_is_defined(arm, baseline).
RatioEstimate bootstrap_ratio_of_medians(const std::vector<double>& arm,
                                         const std::vector<double>& baseline,
                                         const BootstrapOptions& options);

enum class Verdict { no_difference, better, worse };

// "no difference" when the interval contains 1; else better or worse by
// the metric's direction.
Verdict judge(const RatioEstimate& estimate, Better better);

std::string to_string(Verdict verdict);

}  // namespace parklock::launcher

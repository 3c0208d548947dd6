// The figures an A/B collected, and their summary per arm.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ab_stats.h"
#include "metric.h"

namespace parklock::launcher {

struct Sample {
  int round = 0;  // 1-based, warm-up rounds excluded
  std::string arm;
  double value = 0;         // the metric
  double wall_seconds = 0;  // of the command (or the load), whatever the metric
};

struct AbResults {
  std::vector<std::string> arms;  // in the order they ran each round
  std::string baseline;           // the arm ratios are taken to
  std::vector<Sample> samples;    // measured runs, in the order they ran

  std::vector<double> values_of(const std::string& arm) const;
};

struct ArmSummary {
  std::string arm;
  int runs = 0;
  double median = 0;
  double min = 0;
  double max = 0;
  // Against the baseline; absent for the baseline itself and where a ratio
  // means nothing (a figure that is zero or negative).
  std::optional<RatioEstimate> ratio;
  std::optional<Verdict> verdict;
};

std::vector<ArmSummary> summarize(const AbResults& results, Better better, const BootstrapOptions& bootstrap);

}  // namespace parklock::launcher

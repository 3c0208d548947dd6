#include "ab_results.h"

#include <algorithm>

namespace parklock::launcher {

std::vector<double> AbResults::values_of(const std::string& arm) const {
  std::vector<double> values;
  for (const auto& sample : samples)
    if (sample.arm == arm) values.push_back(sample.value);
  return values;
}

std::vector<ArmSummary> summarize(const AbResults& results, Better better, const BootstrapOptions& bootstrap) {
  auto baseline = results.values_of(results.baseline);
  std::vector<ArmSummary> summaries;
  for (const auto& arm : results.arms) {
    auto values = results.values_of(arm);
    ArmSummary summary;
    summary.arm = arm;
    summary.runs = int(values.size());
    summary.median = median(values);
    summary.min = *std::min_element(values.begin(), values.end());
    summary.max = *std::max_element(values.begin(), values.end());
    if (arm != results.baseline && ratio_is_defined(values, baseline)) {
      summary.ratio = bootstrap_ratio_of_medians(values, baseline, bootstrap);
      summary.verdict = judge(*summary.ratio, better);
    }
    summaries.push_back(summary);
  }
  return summaries;
}

}  // namespace parklock::launcher

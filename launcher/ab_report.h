// What an A/B prints and writes: the table of medians and ratios, the CSV
// of every run, and the PNG of each arm's distribution (gnuplot).
#pragma once

#include <filesystem>
#include <ostream>
#include <string>

#include "ab_results.h"

namespace parklock::launcher {

struct ReportContext {
  std::string metric_label;  // Metric::label()
  Better better = Better::lower;
  int runs = 0;    // measured rounds
  int warmup = 0;  // warm-up rounds, not counted
  double confidence = 0.95;
};

void print_table(std::ostream& out, const std::vector<ArmSummary>& summaries, const std::string& baseline,
                 const ReportContext& context);

// One row per measured run: round, arm, value, wall_s.
void write_csv(const std::filesystem::path& path, const AbResults& results);

// A box per arm with every run's figure drawn over it, baseline first.
// `work_dir` holds gnuplot's data and script. Throws std::runtime_error
// when gnuplot is missing or fails.
void write_plot(const std::filesystem::path& path, const AbResults& results,
                const std::vector<ArmSummary>& summaries, const ReportContext& context,
                const std::filesystem::path& work_dir);

// Whether gnuplot is on PATH, so a missing one is reported before the runs.
bool gnuplot_available();

}  // namespace parklock::launcher
